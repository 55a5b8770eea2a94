"""The decision engine: one patient at one decision point -> ranked, explained options.

Rules live in the KB (``kb/decisions``) as declarative conditions over derived
facts; this module evaluates them with a full trace: every criterion met / not
met / unknown, every gate that fired, every regimen considered and why not.

References
----------
domain.md sections 3-5 (the clinical model); the KB files cite each rule's sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mbcpath import __version__
from mbcpath.domain.patient import Patient
from mbcpath.domain.recommendation import (
    CATEGORY_ORDER,
    Category,
    Criterion,
    DecisionPoint,
    EvidenceRef,
    Excluded,
    GuidelineRef,
    Option,
    Recommendation,
)
from mbcpath.engine.evidence import cited_evidence, evaluate_criterion, static_evidence
from mbcpath.engine.gates import (
    active_gates,
    apply_gates,
    cdk46_without_endocrine,
    demote,
    format_values,
    gate_verdicts,
    main_kind,
)
from mbcpath.engine.regimens import WorkingRegimen
from mbcpath.facts.derive import PatientFacts, derive_facts
from mbcpath.kb.loader import KnowledgeBase, load_kb
from mbcpath.kb.models import Gate, OptionRule
from mbcpath.rules.conditions import compile_condition

#: Facts echoed in the output (sets become sorted lists) so a reader can check the basis.
_SHOWN_FACTS = (
    "her2_status", "hr_positive", "er_low", "endocrine_responsive", "de_novo", "tfi_months",
    "adjuvant_pertuzumab", "early_relapse", "relapse_6_12_after_trastuzumab_only", "metastatic_lines",
    "prior_lines", "progressed_on", "current_drugs", "drugs_received", "active_brain_metastases",
    "visceral_crisis", "low_burden", "needs_ofs", "decision_point",
)


@dataclass
class _Context:
    """Per-patient state shared by the rules: facts, overrides, gate verdicts."""

    pf: PatientFacts
    overrides: dict[str, str]
    verdicts: dict[str, bool | None]
    gates: list[Gate]
    message_values: dict[str, Any]


@dataclass
class _Candidate:
    rule: OptionRule
    option: Option
    priority: int


class _Cache:
    """Patient-independent pieces built once per KB (evidence citations, guideline refs)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.evidence: dict[tuple[str, str], EvidenceRef] = {}
        self.guidelines: dict[str, GuidelineRef] = {}
        statements = kb.statements
        for sid, (g, s) in statements.items():
            self.guidelines[sid] = GuidelineRef(id=sid, body=g.body, statement=s.text, rating=s.rating,
                                                date=s.date or g.date, sources=list(s.sources))
        for d in kb.decisions.values():
            for o in d.options:
                for ev in o.evidence:
                    key = (ev.trial, ev.role)
                    if key not in self.evidence:
                        self.evidence[key] = static_evidence(kb.trials[ev.trial], ev.role)


_CACHES: dict[int, _Cache] = {}


def _cache(kb: KnowledgeBase) -> _Cache:
    c = _CACHES.get(id(kb))
    if c is None or c.kb is not kb:
        c = _CACHES[id(kb)] = _Cache(kb)
    return c


def _shown(facts: Mapping[str, Any]) -> dict[str, object]:
    out: dict[str, object] = {}
    for k in _SHOWN_FACTS:
        v = facts.get(k)
        out[k] = sorted(v) if isinstance(v, (set, frozenset)) else v
    return out


def recommend(patient: Patient, kb: KnowledgeBase | None = None) -> Recommendation:
    """Rank the reasonable options for ``patient`` at its decision point.

    Parameters
    ----------
    patient : Patient
        A validated patient (see :func:`mbcpath.domain.validation.parse_patient`).
    kb : KnowledgeBase, optional
        The knowledge base release; default :func:`mbcpath.kb.load_kb`.

    Returns
    -------
    Recommendation
        The contract's recommendation: options ranked from 1, every regimen considered
        and excluded with its reasons, conflicts and missing data. Deterministic.
    """
    kb = kb or load_kb()
    cache = _cache(kb)
    pf = derive_facts(patient)
    facts = pf.values
    base = {"patient_id": patient.id, "kb_release": kb.release.kb_release, "engine_version": __version__}
    if facts["her2_status"] != "positive":
        return _out_of_scope(patient, pf, base)
    dp = facts["decision_point"]
    overrides = {o.gate: o.reason for o in patient.gate_overrides}
    verdicts = gate_verdicts(kb.safety.gates, facts)
    ctx = _Context(pf, overrides, verdicts, active_gates(kb.safety.gates, verdicts), format_values(facts))
    unknown: list[str] = []
    candidates: list[_Candidate] = []
    excluded: list[Excluded] = []
    for rule in (o for d in kb.decisions.values() if dp in d.decision_points for o in d.options):
        cand, excl = _evaluate(rule, kb, cache, ctx, unknown)
        if cand is not None:
            candidates.append(cand)
        if excl is not None:
            excluded.append(excl)
    candidates.sort(key=lambda c: (CATEGORY_ORDER[c.option.category], -c.priority, c.rule.id))
    options: list[Option] = []
    seen: set[str] = set()
    for c in candidates:
        if c.option.regimen_id in seen:
            continue
        seen.add(c.option.regimen_id)
        c.option.rank = len(options) + 1
        options.append(c.option)
    excluded = [e for e in excluded if e.regimen_id not in seen]
    excluded = list({e.regimen_id: e for e in reversed(excluded)}.values())[::-1]
    conflicts = []
    for n in kb.notes.conflicts:
        if dp not in n.decision_points:
            continue
        cond = compile_condition(n.when)
        v = cond.evaluate(facts)
        if v:
            conflicts.append(f"{n.text} (Sources: {', '.join(n.sources)})")
        elif v is None:
            unknown.extend(cond.unknown_facts(facts))
    if not options:
        stops = sorted({g for e in excluded if e.kind == "safety" for g in e.gates})
        conflicts.append(
            f"No regimen of KB release {kb.release.kb_release} passes the safety gates, exposure rule and formulary "
            f"for this patient at this decision point (hard stops: {', '.join(stops) or 'none'}; see excluded). "
            "This needs individual specialist review; overridable stops can be lifted with a documented "
            "gate_overrides entry."
        )
    return Recommendation(
        **base, decision_point=DecisionPoint(dp), out_of_scope=None, options=options, excluded=excluded,
        conflicts=conflicts, missing_data=_missing(kb, facts, unknown), facts=_shown(facts),
    )


def _evaluate(rule: OptionRule, kb: KnowledgeBase, cache: _Cache, ctx: _Context,
              unknown: list[str]) -> tuple[_Candidate | None, Excluded | None]:
    pf = ctx.pf
    facts = pf.values
    reg = WorkingRegimen.build(kb.regimens[rule.regimen], pf.current_regimen)
    criteria: list[Criterion] = []
    not_met: list[str] = []
    requires_unknown = False
    for c in rule.requires:
        crit, v = evaluate_criterion(c, facts)
        criteria.append(crit)
        if v is False:
            not_met.append(f"{c.text}: not met ({crit.detail})")
        elif v is None:
            requires_unknown = True
            unknown.extend(compile_condition(c.condition).unknown_facts(facts))
    if not_met:
        return None, Excluded.model_construct(regimen_id=reg.id, name=reg.name, components=reg.labels(),
                                              reasons=not_met, gates=[rule.id], overridable=False,
                                              kind="not_indicated")
    outcome = apply_gates(ctx.gates, reg, facts, exposure_exempt=rule.exposure_exempt,
                          overrides=ctx.overrides, verdicts=ctx.verdicts, message_values=ctx.message_values)
    unknown.extend(outcome.unknown_facts)
    if cdk46_without_endocrine(reg):
        outcome.block("a CDK4/6 inhibitor is always given with endocrine therapy", "cdk46-needs-endocrine", "safety")
    if outcome.excluded:
        return None, Excluded.model_construct(regimen_id=reg.id, name=reg.name, components=reg.labels(),
                                              reasons=outcome.excluded, gates=outcome.gate_ids,
                                              overridable=outcome.overridable, kind=main_kind(outcome.kinds))
    for c in rule.criteria:
        criteria.append(evaluate_criterion(c, facts)[0])
    category = rule.category.value
    priority = rule.priority
    rationale = list(rule.rationale)
    for a in rule.adjustments:
        cond = compile_condition(a.when)
        v = cond.evaluate(facts)
        if v:
            if a.category is not None:
                category = a.category.value
            priority += a.priority
            rationale.append(a.note)
        elif v is None:
            unknown.extend(cond.unknown_facts(facts))
    warnings = list(outcome.warnings)
    if outcome.demoted:
        category = demote(category)
    if requires_unknown:
        category = demote(category)
        warnings.append("A required criterion could not be checked (see criteria marked unknown).")
    rationale.extend(outcome.notes)
    evidence = [cited_evidence(cache.evidence[(ev.trial, ev.role)], kb.trials[ev.trial], facts)
                for ev in rule.evidence]
    option = Option.model_construct(
        rank=1, category=Category(category), regimen_id=reg.id, name=reg.name,
        components=[c.to_component() for c in reg.components], rationale=rationale, evidence=evidence,
        warnings=warnings, criteria=criteria, guidelines=[cache.guidelines[s] for s in rule.guidelines],
        rule_id=rule.id,
    )
    return _Candidate(rule, option, priority), None


def _missing(kb: KnowledgeBase, facts: Mapping[str, Any], unknown: list[str]) -> list[str]:
    needed = set(unknown)
    out: list[str] = []
    for m in kb.notes.missing_data:
        if m.when is not None:
            if compile_condition(m.when).evaluate(facts):
                out.append(m.text)
        elif m.fact in needed and facts.get(m.fact) is None:
            out.append(m.text)
    return out


def _out_of_scope(patient: Patient, pf: PatientFacts, base: dict[str, Any]) -> Recommendation:
    status = pf.values["her2_status"]
    her2 = patient.her2
    if status == "negative":
        reason = (f"HER2-negative (IHC {her2.ihc or 'not done'}, ISH {her2.ish or 'not done'}; ASCO/CAP): "
                  "mbcpath covers HER2-positive disease only. HER2-low disease follows a different pathway.")
        missing = ["HER2-negative by ASCO/CAP: if HER2-positive disease is suspected, retest a metastatic biopsy."]
    else:
        reason = (f"HER2 status unresolved (IHC {her2.ihc or 'not done'}, ISH {her2.ish or 'not done'}): "
                  "no HER2-positive recommendation can be made.")
        missing = ["HER2 unresolved: IHC 2+ (equivocal) or missing IHC needs reflex ISH (ASCO/CAP 2018, affirmed "
                   "2023); report the ISH result (HER2/CEP17 ratio and copy number) and ask again."]
    return Recommendation(**base, decision_point=DecisionPoint(pf.values["decision_point"]), out_of_scope=reason,
                          options=[], excluded=[], conflicts=[], missing_data=missing, facts=_shown(pf.values))
