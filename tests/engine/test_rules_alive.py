"""Every rule of the KB is cited, and every rule is alive: removing it changes some recommendation.

The pool is the vignettes (tests/cases), the crafted patients of ``_patients.crafted_pool`` and
300 seeded generated patients. A variant KB is the loaded one with a single rule removed
(``dataclasses.replace`` + pydantic ``model_copy``): a new object, so the engine's per-KB cache
(keyed by ``id(kb)``) is rebuilt for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from conftest import load_case, vignette_files
from mbcpath.domain.validation import parse_patient
from mbcpath.engine.core import recommend
from strategies import random_patients

from ._patients import crafted_pool


def _summary(rec: Any) -> tuple:
    """What a clinician sees: decision point, options (with components, category, warnings, rationale),
    conflicts and missing data. ``excluded`` is left out: a rule that only ever lands there is dead."""
    return (
        rec.decision_point, rec.out_of_scope,
        tuple((o.regimen_id, o.category.value, tuple(sorted(o.items())), tuple(o.warnings), tuple(o.rationale))
              for o in rec.options),
        tuple(rec.conflicts), tuple(rec.missing_data),
    )


@pytest.fixture(scope="module")
def pool(kb):
    """(patient, decision point, baseline summary) for every in-scope patient of the pool."""
    raws = crafted_pool()
    raws += [load_case(p)["patient"] for p in vignette_files() if not load_case(p)["expect"].get("reject")]
    raws += random_patients(300, seed=424242)
    out = []
    for raw in raws:
        p = parse_patient(raw)
        rec = recommend(p, kb)
        if rec.out_of_scope is None:
            out.append((p, rec.decision_point.value, _summary(rec)))
    return out


def _alive(variant: Any, pool: list, decision_points: Iterable[str] | None) -> bool:
    points = set(decision_points) if decision_points is not None else None
    for p, dp, before in pool:
        if points is not None and dp not in points:
            continue
        if _summary(recommend(p, variant)) != before:
            return True
    return False


def _dead(kb: Any, pool: list, variants: Iterable[tuple[str, Callable[[], Any], Iterable[str] | None]]) -> list[str]:
    dead = []
    for name, make, points in variants:
        variant = make()
        assert variant is not kb
        if not _alive(variant, pool, points):
            dead.append(name)
    return dead


def _without_option(kb: Any, file_id: str, rule_id: str) -> Any:
    d = kb.decisions[file_id]
    files = {**kb.decisions, file_id: d.model_copy(update={"options": [o for o in d.options if o.id != rule_id]})}
    return dataclasses.replace(kb, decisions=files)


def _without_adjustment(kb: Any, file_id: str, rule_id: str, adj_id: str) -> Any:
    d = kb.decisions[file_id]
    options = [o.model_copy(update={"adjustments": [a for a in o.adjustments if a.id != adj_id]})
               if o.id == rule_id else o for o in d.options]
    return dataclasses.replace(kb, decisions={**kb.decisions, file_id: d.model_copy(update={"options": options})})


# ----------------------------------------------------------------------------- (a) citations
def _uncited(kb: Any, where: str, keys: list[str]) -> list[str]:
    """'cites no source' when ``keys`` is empty, and each key that is not in ``kb.sources``."""
    problems = [f"{where}: cites no source"] if not keys else []
    return problems + [f"{where}: source {k!r} not in kb.sources" for k in keys if k not in kb.sources]


def _option_citation_problems(kb: Any, o: Any) -> list[str]:
    """An option rule, its criteria and adjustments cite sources; it cites trials of the KB."""
    problems = _uncited(kb, f"option {o.id}", list(o.sources))
    for c in (*o.requires, *o.criteria):
        problems += _uncited(kb, f"option {o.id} criterion {c.id}", list(c.sources))
    for a in o.adjustments:
        problems += _uncited(kb, f"option {o.id} adjustment {a.id}", list(a.sources))
    if not o.evidence:
        problems.append(f"option {o.id}: cites no trial")
    return problems + [f"option {o.id}: trial {e.trial!r} not in kb.trials"
                       for e in o.evidence if e.trial not in kb.trials]


def _gate_citation_problems(kb: Any, g: Any) -> list[str]:
    """A gate cites sources; a hard stop (an excluding condition or exposure gate) cites a verified one."""
    problems = _uncited(kb, f"gate {g.id}", list(g.sources))
    if g.effect == "exclude" and g.kind in ("condition", "exposure") and not any(
            kb.sources[k].verified for k in g.sources if k in kb.sources):
        problems.append(f"gate {g.id}: a hard stop without a verified source")
    return problems


def test_every_rule_cites_sources_that_resolve(kb):
    """Every option rule (and its criteria, adjustments, trials), gate and conflict note cites resolvable sources."""
    problems = [p for d in kb.decisions.values() for o in d.options for p in _option_citation_problems(kb, o)]
    problems += [p for g in kb.safety.gates for p in _gate_citation_problems(kb, g)]
    problems += [p for n in kb.notes.conflicts for p in _uncited(kb, f"conflict {n.id}", list(n.sources))]
    assert problems == []


# ----------------------------------------------------------------------------- (b) no dead rules
def test_pool_covers_every_decision_point(pool):
    """The pool holds in-scope patients at every decision point (so liveness is tested everywhere)."""
    assert {dp for _, dp, _ in pool} == {"first_line", "maintenance", "second_line", "third_line_or_later",
                                         "cns_event"}


def test_every_option_rule_is_alive(kb, pool):
    """Removing any single option rule changes the recommendation for at least one patient of the pool."""
    variants = [(f"{d.id}#{o.id}", lambda d=d, o=o: _without_option(kb, d.id, o.id), d.decision_points)
                for d in kb.decisions.values() for o in d.options]
    dead = _dead(kb, pool, variants)
    assert dead == [], f"dead option rules (removing them changes no recommendation): {dead}"


def test_every_adjustment_is_alive(kb, pool):
    """Removing any single adjustment of an option rule changes the recommendation for some patient."""
    variants = [(f"{d.id}#{o.id}/{a.id}", lambda d=d, o=o, a=a: _without_adjustment(kb, d.id, o.id, a.id),
                 d.decision_points)
                for d in kb.decisions.values() for o in d.options for a in o.adjustments]
    dead = _dead(kb, pool, variants)
    assert dead == [], f"dead adjustments: {dead}"


def test_every_safety_gate_is_alive(kb, pool):
    """Removing any single safety gate changes the recommendation for at least one patient of the pool."""
    def without(gid: str) -> Any:
        return dataclasses.replace(kb, safety=kb.safety.model_copy(
            update={"gates": [g for g in kb.safety.gates if g.id != gid]}))

    dead = _dead(kb, pool, [(g.id, lambda g=g: without(g.id), None) for g in kb.safety.gates])
    assert dead == [], f"dead safety gates: {dead}"


def test_every_conflict_note_is_alive(kb, pool):
    """Removing any single conflict note changes the recommendation for at least one patient of the pool."""
    def without(nid: str) -> Any:
        return dataclasses.replace(kb, notes=kb.notes.model_copy(
            update={"conflicts": [n for n in kb.notes.conflicts if n.id != nid]}))

    dead = _dead(kb, pool, [(n.id, lambda n=n: without(n.id), n.decision_points) for n in kb.notes.conflicts])
    assert dead == [], f"dead conflict notes: {dead}"


def test_removing_a_rule_is_seen_by_the_engine(kb, pool):
    """Control: the variant mechanism works (removing first-line THP removes it from a first-line answer)."""
    p, _, _ = next(x for x in pool if x[1] == "first_line")
    variant = _without_option(kb, "first_line", "fl-thp")
    assert "thp" in {o.regimen_id for o in recommend(p, kb).options}
    assert "thp" not in {o.regimen_id for o in recommend(p, variant).options}
