"""The decision engine: one patient at one decision point -> ranked, explained options.

The engine reads the compiled :class:`~mbcpath.engine.plan.Plan` of a KB release and the
patient's derived facts; it holds no rules of its own. For every candidate option of the
decision point it evaluates the rule's requirements (an unknown requirement excludes the
option or offers it flagged as resting on unknown data), the stops on each drug (drug-label
table, exposure rule, formulary), the regimen gates, and the adjustments; then it ranks.

References
----------
shared/domain.md sections 3-5 (the clinical model); the KB files cite each rule's sources.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from mbcpath.domain.patient import Patient
from mbcpath.domain.recommendation import DecisionPoint, Excluded, Option, Recommendation
from mbcpath.engine.answer import conflicts, missing_data, provisional, safety_stops, shown_facts, trial_matches
from mbcpath.engine.evaluate import Run, evaluate
from mbcpath.engine.plan import Plan, compile_plan
from mbcpath.engine.ranking import rank
from mbcpath.facts.derive import PatientFacts, derive_facts
from mbcpath.kb.loader import KnowledgeBase, load_kb


def plan_for(kb: KnowledgeBase, as_of: dt.date | None = None) -> Plan:
    """The compiled plan of ``kb`` (or of its view as of a date), compiled once and kept with the KB object.

    The view of a date depends only on which ``known_since`` dates it has passed, so every day between two
    of them shares one plan (a cohort audit over many decision dates compiles a handful of plans, not one a day).
    """
    plans: dict[dt.date | None, Plan] = kb.__dict__.setdefault("_plans", {})
    key = None if as_of is None else _last_change(kb, as_of)
    plan = plans.get(key)
    if plan is None:
        if as_of is None:
            plan = compile_plan(kb)
        else:
            from mbcpath.kb.history import kb_as_of

            plan = compile_plan(kb_as_of(kb, as_of))
        plans[key] = plan
    return plan


def _last_change(kb: KnowledgeBase, day: dt.date) -> dt.date:
    """The latest date on or before ``day`` at which the KB's as-of view changes (``date.min`` if none)."""
    from bisect import bisect_right

    changes: list[dt.date] | None = kb.__dict__.get("_change_dates")
    if changes is None:
        from mbcpath.kb.history import change_dates

        changes = kb.__dict__["_change_dates"] = change_dates(kb)
    i = bisect_right(changes, day)
    return changes[i - 1] if i else dt.date.min


def recommend(patient: Patient, kb: KnowledgeBase | None = None, *, as_of: dt.date | None = None) -> Recommendation:
    """Rank the reasonable options for ``patient`` at its decision point.

    Parameters
    ----------
    patient : Patient
        A validated patient (see :func:`mbcpath.domain.validation.parse_patient`).
    kb : KnowledgeBase, optional
        The knowledge base release; default :func:`mbcpath.kb.load_kb`.
    as_of : datetime.date, optional
        Answer with what was known on that date: option rules, trial results and guideline statements
        that became public later are left out (:func:`mbcpath.kb.history.kb_as_of`); the answer carries it.

    Returns
    -------
    Recommendation
        The contract's recommendation: options ranked from 1, every regimen considered
        and excluded with its reasons, conflicts and missing data. Deterministic.
    """
    plan = plan_for(kb or load_kb(), as_of)
    pf = derive_facts(patient)
    base = _base(patient, pf, plan)
    base["as_of"] = as_of.isoformat() if as_of else None
    scope = _out_of_scope_reason(patient, pf.values)
    if scope is not None:
        return Recommendation(**base, out_of_scope=scope[0], options=[], excluded=[], conflicts=[],
                              missing_data=scope[1])
    run = Run.start(plan, pf, patient)
    options, excluded = _consider(run)
    return Recommendation(
        **base, out_of_scope=None, options=options, excluded=excluded,
        conflicts=conflicts(run, options, excluded), missing_data=missing_data(run),
        safety_stops=safety_stops(run), trial_matches=trial_matches(run),
        provisional=provisional(run),
    )


def _base(patient: Patient, pf: PatientFacts, plan: Plan) -> dict[str, Any]:
    decision = pf.decision
    notes = [*patient.input_notes, *pf.notes]
    return {
        "patient_id": patient.id, "kb_release": plan.kb_release, "engine_version": plan.engine_version,
        "decision_point": DecisionPoint(pf.values["decision_point"]), "facts": shown_facts(pf.values),
        "decision_point_stated": decision.stated if decision else None,
        "decision_point_basis": decision.basis if decision else "", "input_notes": notes,
    }


def _consider(run: Run) -> tuple[list[Option], list[Excluded]]:
    states = []
    excluded: list[Excluded] = []
    for cand in run.plan.candidates.get(run.facts["decision_point"], ()):
        state, excl = evaluate(cand, run)
        if state is not None:
            states.append(state)
        if excl is not None:
            excluded.append(excl)
    options = rank(states, run)
    offered = {o.regimen_id for o in options}
    kept: dict[str, Excluded] = {}
    for e in excluded:
        if e.regimen_id in offered:
            continue
        held = kept.get(e.regimen_id)
        if held is None or _KIND_RANK[e.kind] < _KIND_RANK[held.kind]:
            kept[e.regimen_id] = e
    return options, list(kept.values())


#: Which exclusion of a regimen the answer shows when several rules exclude it: a rule that indicated the
#: regimen but was stopped (safety, exposure, availability) says more than one that did not indicate it.
_KIND_RANK = {k: i for i, k in enumerate(("safety", "exposure", "availability", "not_indicated", "not_established"))}


_HER2_NEGATIVE_ADVICE = "HER2-negative by ASCO/CAP: if HER2-positive disease is suspected, retest a metastatic biopsy."
_HER2_UNRESOLVED_ADVICE = ("HER2 unresolved: IHC 2+ (equivocal) or missing IHC needs reflex ISH (ASCO/CAP 2018, "
                           "affirmed 2023); report the ISH result (HER2/CEP17 ratio and copy number) and ask again.")


def _out_of_scope_reason(patient: Patient, facts: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    her2 = patient.her2
    ihc, ish = her2.ihc or "not done", her2.ish or "not done"
    if facts["her2_status"] == "negative":
        return (f"HER2-negative (IHC {ihc}, ISH {ish}; ASCO/CAP): mbcpath covers HER2-positive disease only. "
                "HER2-low disease follows a different pathway."), [_HER2_NEGATIVE_ADVICE]
    if facts["her2_status"] == "unresolved":
        return (f"HER2 status unresolved (IHC {ihc}, ISH {ish}): no HER2-positive recommendation can be made."
                ), [_HER2_UNRESOLVED_ADVICE]
    if not facts["distant_metastases"]:
        return ("No distant (metastatic) disease: mbcpath covers metastatic HER2-positive breast cancer; early and "
                "locally advanced disease follow the (neo)adjuvant guidelines."), [
            "If distant metastases are suspected, stage the patient and ask again with the metastatic sites."]
    return None
