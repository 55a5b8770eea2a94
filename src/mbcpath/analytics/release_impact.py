"""Release impact at cohort scale: whose recommendation a new knowledge base changes, and how.

Each record is answered twice by the per-patient engine (the reference engine of the cohort runner), once
with each knowledge base as ``mbcpath kb diff`` loads it (a date gives the KB as it stood then, a release or
a git revision that release). Only counts, a table of the most frequent changes and a few examples are kept,
so memory does not grow with the cohort.

A record's answer *changes* when its decision point, its out-of-scope verdict or its ranked option list
differs. The changes are counted four ways (a record can fall in several): the rank-1 option changes; the set
of options offered changes (options gained or lost); the same options are re-ranked; the decision point
changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mbcpath.errors import MbcpathError

__all__ = ["Answer", "ReleaseImpact", "answer_of", "release_impact"]

NONE = "(none)"


@dataclass(frozen=True)
class Answer:
    """What is compared of one answer."""

    decision_point: str | None
    out_of_scope: bool
    options: tuple[str, ...]

    @property
    def rank1(self) -> str:
        return self.options[0] if self.options else NONE


def answer_of(rec: Any) -> Answer:
    """The comparable part of a :class:`~mbcpath.domain.recommendation.Recommendation`."""
    dp = rec.decision_point
    return Answer(decision_point=None if dp is None else str(getattr(dp, "value", dp)),
                  out_of_scope=rec.out_of_scope is not None, options=tuple(o.regimen_id for o in rec.options))


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Count(_Out):
    what: str
    patients: int


class Example(_Out):
    patient: str
    decision_point_before: str | None
    decision_point_after: str | None
    before: list[str]
    after: list[str]
    gained: list[str]
    lost: list[str]


class ReleaseImpact(_Out):
    """Counts of changed answers between two knowledge bases, the top changes and examples."""

    from_release: str
    to_release: str
    records: int = 0
    rejected: int = 0
    unanswered: int = Field(0, description="records the engine refused under either KB")
    changed: int = 0
    rank1_changed: int = 0
    option_set_changed: int = 0
    re_ranked_only: int = 0
    decision_point_changed: int = 0
    top_rank1_changes: list[Count] = Field(default_factory=list, description="'before -> after' of the rank-1 option")
    top_gained: list[Count] = Field(default_factory=list)
    top_lost: list[Count] = Field(default_factory=list)
    unanswered_reasons: list[Count] = Field(default_factory=list)
    examples: list[Example] = Field(default_factory=list)


class _Tally:
    def __init__(self, n_examples: int) -> None:
        self.counts: Counter[str] = Counter()
        self.rank1: Counter[str] = Counter()
        self.gained: Counter[str] = Counter()
        self.lost: Counter[str] = Counter()
        self.unanswered: Counter[str] = Counter()
        self.examples: list[Example] = []
        self.n_examples = n_examples

    def add(self, pid: str, a: Answer, b: Answer) -> None:
        self.counts["records"] += 1
        if a == b:
            return
        self.counts["changed"] += 1
        gained = [r for r in b.options if r not in a.options]
        lost = [r for r in a.options if r not in b.options]
        if a.rank1 != b.rank1:
            self.counts["rank1_changed"] += 1
            self.rank1[f"{a.rank1} -> {b.rank1}"] += 1
        if gained or lost:
            self.counts["option_set_changed"] += 1
        elif a.options != b.options:
            self.counts["re_ranked_only"] += 1
        if a.decision_point != b.decision_point:
            self.counts["decision_point_changed"] += 1
        self.gained.update(gained)
        self.lost.update(lost)
        if len(self.examples) < self.n_examples:
            self.examples.append(Example(patient=pid, decision_point_before=a.decision_point,
                                         decision_point_after=b.decision_point, before=list(a.options),
                                         after=list(b.options), gained=gained, lost=lost))


def _top(c: Counter[str], n: int) -> list[Count]:
    return [Count(what=k, patients=v) for k, v in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def release_impact(records: Iterable[Any], old: Any, new: Any, *, engine: Callable[..., Any] | None = None,
                   top: int = 10, examples: int = 10, rejected: int = 0,
                   progress: Callable[[int], None] | None = None) -> ReleaseImpact:
    """Answer every record under ``old`` and ``new`` and summarise what changes.

    Parameters
    ----------
    records : :class:`mbcpath.analytics.records.CohortRecord` (streamed).
    old, new : the two knowledge bases (as :func:`mbcpath.kb.history.load_kb_at` loads them).
    engine : ``engine(patient, kb)`` -> Recommendation (default :func:`mbcpath.engine.recommend`).
    top, examples : rows in each table of top changes; examples kept.
    """
    if engine is None:
        from mbcpath.engine import recommend

        engine = recommend
    tally = _Tally(examples)
    for rec in records:
        try:
            a, b = answer_of(engine(rec.patient, old)), answer_of(engine(rec.patient, new))
        except MbcpathError as err:
            tally.unanswered[str(err).split(":")[0][:120]] += 1
        else:
            tally.add(rec.patient.id, a, b)
        if progress is not None:
            progress(1)
    return _summary(tally, old, new, top, rejected=rejected)


def _row_answer(row: tuple[Any, ...]) -> Answer:
    """A row of the runner's answer table (:data:`mbcpath.analytics.runner.OUTPUT_COLUMNS`) as an :class:`Answer`."""
    return Answer(decision_point=row[2], out_of_scope=row[3] is not None, options=tuple(row[4]))


def release_impact_runner(items: Iterable[Any], old: Any, new: Any, *, engine: str = "duckdb",
                          batch_size: int = 5000, top: int = 10, examples: int = 10,
                          progress: Callable[[int], None] | None = None) -> ReleaseImpact:
    """:func:`release_impact` through the cohort runner: records in batches, each batch answered by one batch
    engine per KB (``python``, ``duckdb`` or ``spark``: :func:`mbcpath.analytics.runner.make_engine`).

    ``items`` are the reader's :class:`~mbcpath.analytics.records.Accepted` / ``Rejected`` (rejects are counted).
    Memory is bounded by ``batch_size``.
    """
    from mbcpath.analytics.runner import RunCounts, batched, make_engine

    counts = RunCounts()
    tally = _Tally(examples)
    before = make_engine(engine, old)  # type: ignore[arg-type]
    after = make_engine(engine, new)  # type: ignore[arg-type]
    try:
        for batch in batched(items, batch_size, counts, lambda _: None):
            for ra, rb in zip(before.answer(batch), after.answer(batch), strict=True):
                tally.add(str(ra[1]), _row_answer(ra), _row_answer(rb))
            if progress is not None:
                progress(len(batch))
    finally:
        before.close()
        after.close()
    return _summary(tally, old, new, top, rejected=counts.rejected)


def _summary(tally: _Tally, old: Any, new: Any, top: int, rejected: int = 0) -> ReleaseImpact:
    c = tally.counts
    return ReleaseImpact(
        from_release=old.release.kb_release, to_release=new.release.kb_release,
        records=c["records"] + sum(tally.unanswered.values()) + rejected, rejected=rejected,
        unanswered=sum(tally.unanswered.values()), changed=c["changed"], rank1_changed=c["rank1_changed"],
        option_set_changed=c["option_set_changed"], re_ranked_only=c["re_ranked_only"],
        decision_point_changed=c["decision_point_changed"], top_rank1_changes=_top(tally.rank1, top),
        top_gained=_top(tally.gained, top), top_lost=_top(tally.lost, top),
        unanswered_reasons=_top(tally.unanswered, top), examples=tally.examples)


def impact_lines(r: ReleaseImpact) -> list[str]:
    """The summary as text lines (within 80 columns where the regimen ids allow)."""
    pct = (lambda n: f"{n / r.records:.1%}") if r.records else (lambda n: "-")
    out = ["", f"Cohort: {r.records} records ({r.rejected} rejected, {r.unanswered} unanswered)",
           f"  answer changes:        {r.changed} ({pct(r.changed)})",
           f"  rank-1 option changes: {r.rank1_changed} ({pct(r.rank1_changed)})",
           f"  option set changes:    {r.option_set_changed} ({pct(r.option_set_changed)})",
           f"  re-ranked only:        {r.re_ranked_only} ({pct(r.re_ranked_only)})",
           f"  decision point moves:  {r.decision_point_changed} ({pct(r.decision_point_changed)})"]
    for title, rows in (("Top rank-1 changes", r.top_rank1_changes), ("Options gained", r.top_gained),
                        ("Options lost", r.top_lost), ("Unanswered", r.unanswered_reasons)):
        if rows:
            out.append(f"{title}:")
            out += [f"  {row.patients:>7}  {row.what}" for row in rows]
    if r.examples:
        out.append("Examples:")
        out += [_example_line(e) for e in r.examples]
    return out


def _example_line(e: Example) -> str:
    parts = [f"rank 1 {e.before[0] if e.before else NONE} -> {e.after[0] if e.after else NONE}"]
    if e.decision_point_before != e.decision_point_after:
        parts.append(f"decision point {e.decision_point_before} -> {e.decision_point_after}")
    parts += [f"{k} {', '.join(v)}" for k, v in (("gained", e.gained), ("lost", e.lost)) if v]
    return f"  {e.patient}: " + "; ".join(parts)
