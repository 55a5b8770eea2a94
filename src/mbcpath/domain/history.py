"""Consistency of a treatment history: contradictions are refused, never guessed.

A history is a list of treatments in any order, each with times counted in months
before now (larger = earlier). The checks here refuse what cannot be true of one
patient, naming the field and the rule:

* a (neo)adjuvant treatment that starts after a metastatic one;
* a later line that starts before an earlier line started, or before it ended
  (two lines at once: an earlier line still ongoing, or overlapping in time);
* a treatment of line k that starts after line k ended in progression
  (progression ends the line: the next regimen is line k + 1);
* a maintenance phase that starts before the induction of its line, or while it is recorded as ongoing.

References
----------
shared/domain.md section 2 (a line of therapy: induction and maintenance are one line;
progression starts the next line) and shared/contract.md (contradictions are rejected
with an error naming the field and the rule).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class _Treatment(Protocol):
    @property
    def setting(self) -> object: ...
    @property
    def line(self) -> int | None: ...
    @property
    def phase(self) -> object: ...
    @property
    def started_months_ago(self) -> float: ...
    @property
    def ended_months_ago(self) -> float | None: ...
    @property
    def stop_reason(self) -> object: ...


@dataclass(frozen=True)
class HistoryProblem:
    """One contradiction: the field path, its value and the rule it breaks."""

    field: str
    value: object
    rule: str


def _val(x: object) -> str:
    return str(getattr(x, "value", x))


def _indexed_metastatic(ts: Sequence[_Treatment]) -> list[tuple[int, _Treatment]]:
    return [(i, t) for i, t in enumerate(ts) if _val(t.setting) == "metastatic"]


def check_history(ts: Sequence[_Treatment]) -> HistoryProblem | None:
    """The first contradiction in ``ts`` (a patient's treatments), or None when consistent."""
    for check in (_adjuvant_after_metastatic, _line_order, _after_progression, _phase_order):
        problem = check(ts)
        if problem is not None:
            return problem
    return None


def _adjuvant_after_metastatic(ts: Sequence[_Treatment]) -> HistoryProblem | None:
    met = _indexed_metastatic(ts)
    if not met:
        return None
    first_met = max(t.started_months_ago for _, t in met)
    for i, t in enumerate(ts):
        if _val(t.setting) != "metastatic" and t.started_months_ago < first_met:
            return HistoryProblem(
                f"treatments[{i}].started_months_ago", t.started_months_ago,
                f"a {_val(t.setting)} treatment cannot start after the first metastatic treatment "
                f"(started {first_met:g} months ago)")
    return None


def _lines(ts: Sequence[_Treatment]) -> dict[int, list[tuple[int, _Treatment]]]:
    lines: dict[int, list[tuple[int, _Treatment]]] = {}
    for i, t in _indexed_metastatic(ts):
        if t.line is not None:
            lines.setdefault(t.line, []).append((i, t))
    return lines


def _line_order(ts: Sequence[_Treatment]) -> HistoryProblem | None:
    lines = _lines(ts)
    numbers = sorted(lines)
    for a, b in itertools.pairwise(numbers):
        start_a = max(t.started_months_ago for _, t in lines[a])
        i_b, first_b = max(lines[b], key=lambda it: it[1].started_months_ago)
        if first_b.started_months_ago > start_a:
            return HistoryProblem(
                f"treatments[{i_b}].started_months_ago", first_b.started_months_ago,
                f"line {b} cannot start before line {a} started ({start_a:g} months ago)")
        ongoing = [(i, t) for i, t in lines[a] if t.ended_months_ago is None]
        if ongoing:
            i_a = ongoing[0][0]
            return HistoryProblem(
                f"treatments[{i_a}].ended_months_ago", None,
                f"line {a} is recorded as ongoing, but line {b} has started: two lines cannot run at once "
                f"(give line {a} its end and stop reason)")
        end_a = min(t.ended_months_ago for _, t in lines[a] if t.ended_months_ago is not None)
        if first_b.started_months_ago > end_a:
            return HistoryProblem(
                f"treatments[{i_b}].started_months_ago", first_b.started_months_ago,
                f"line {b} starts before line {a} ended ({end_a:g} months ago): two lines cannot overlap")
    return None


def _after_progression(ts: Sequence[_Treatment]) -> HistoryProblem | None:
    for members in _lines(ts).values():
        ended = [(i, t.ended_months_ago) for i, t in members
                 if _val(t.stop_reason) == "progression" and t.ended_months_ago is not None]
        if not ended:
            continue
        at = max(e for _, e in ended)  # the first progression ends the line
        stopped = {i for i, _ in ended}
        for i, t in members:
            if i not in stopped and t.started_months_ago <= at:
                return HistoryProblem(
                    f"treatments[{i}].line", t.line,
                    f"starts after line {t.line} ended in progression ({at:g} months ago): "
                    f"progression ends a line, so this treatment is line {(t.line or 0) + 1}")
    return None


def _phase_order(ts: Sequence[_Treatment]) -> HistoryProblem | None:
    for members in _lines(ts).values():
        induction = [t.started_months_ago for _, t in members if _val(t.phase) == "induction"]
        if not induction:
            continue
        first_induction = max(induction)
        ongoing = [i for i, t in members if _val(t.phase) == "induction" and t.ended_months_ago is None]
        started = [t.started_months_ago for _, t in members if _val(t.phase) == "maintenance"]
        if ongoing and started:
            return HistoryProblem(
                f"treatments[{ongoing[0]}].ended_months_ago", None,
                f"the induction of line {members[0][1].line} is recorded as ongoing, but its maintenance started "
                f"{max(started):g} months ago: give the induction its end")
        for i, t in members:
            if _val(t.phase) == "maintenance" and t.started_months_ago > first_induction:
                return HistoryProblem(
                    f"treatments[{i}].started_months_ago", t.started_months_ago,
                    f"maintenance cannot start before the induction of line {t.line} "
                    f"(started {first_induction:g} months ago)")
    return None
