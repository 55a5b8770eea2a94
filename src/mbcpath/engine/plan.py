"""Compile a knowledge-base release once into an immutable decision plan.

The plan is what every executor reads: the per-patient engine (:mod:`mbcpath.engine.core`)
and the cohort runner's SQL compiler. Everything patient-independent is resolved here:
conditions are compiled, every safety rule is reduced to a stop on one *drug* (the drug-label
table, the exposure rule, the formulary and restricted availability) or to a gate on a
*regimen* (composition rules, warnings, demotions, added components), evidence links are
classified as direct (the option's own regimen was an arm) or indirect, and the facts each
part reads are listed.

References
----------
shared/design.md ("one plan both executors read"); shared/domain.md section 5 (safety gates);
kb/labels/README.md (the drug-label safety table and its effect semantics).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from mbcpath import __version__
from mbcpath.domain.drugs import CHEMOTHERAPY_CLASSES, DRUG_CLASSES, ENDOCRINE_CLASSES, DrugClass
from mbcpath.domain.recommendation import Category, EvidenceRef, GuidelineRef, Tier
from mbcpath.engine.evidence import static_evidence
from mbcpath.kb.loader import KnowledgeBase
from mbcpath.kb.models import ComponentSpec, Gate, LabelDimension, LabelRule, OptionRule, RuleCriterion, Selector
from mbcpath.rules.conditions import Condition, compile_condition

Action = Literal["exclude", "warn"] | None
StopKind = Literal["safety", "exposure", "availability"]

#: What each label effect does to a drug the patient would start (new) or is receiving (continuing).
LABEL_ACTIONS: dict[str, tuple[Action, Action]] = {
    "contraindicated": ("exclude", "exclude"),
    "withhold_stop": ("exclude", "exclude"),
    "do_not_start": ("exclude", "warn"),
    "dose_adjust": ("warn", "warn"),
    "monitor": ("warn", "warn"),
    "none": (None, None),
}


@dataclass(frozen=True)
class DrugStop:
    """One rule acting on one drug: when ``when`` holds, the drug is excluded or warned about."""

    gate: str
    kind: StopKind
    when: Condition
    on_new: Action
    on_continuing: Action
    message: str
    overridable: bool = False
    if_unknown: str | None = None
    sources: tuple[str, ...] = ()
    dimension: str | None = None
    unknown_when: Condition | None = None
    title: str = ""


@dataclass(frozen=True)
class PlanComponent:
    """A regimen component: a drug, a choice within a class, or local therapy."""

    drug: str | None
    drug_class: DrugClass
    name: str | None = None
    choices: tuple[str, ...] = ()

    def drugs(self) -> tuple[str, ...]:
        return (self.drug,) if self.drug else self.choices

    @classmethod
    def of(cls, spec: ComponentSpec) -> PlanComponent:
        return cls(spec.drug, spec.drug_class, spec.name, tuple(spec.choices or ()))


@dataclass(frozen=True)
class PlanRegimen:
    id: str
    name: str
    components: tuple[PlanComponent, ...]
    dynamic: bool = False

    def classes(self) -> frozenset[DrugClass]:
        return frozenset(c.drug_class for c in self.components)


@dataclass(frozen=True)
class Criterion:
    """A compiled rule criterion (requires or shown criterion)."""

    id: str
    text: str
    cond: Condition
    if_unknown: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Adjustment:
    id: str
    cond: Condition
    category: Category | None
    priority: int
    note: str


@dataclass(frozen=True)
class EvidenceLink:
    trial: str
    role: str
    support: Literal["direct", "indirect"]
    static: EvidenceRef


@dataclass(frozen=True)
class Candidate:
    """One option rule at a decision point, with everything patient-independent resolved."""

    rule_id: str
    regimen: PlanRegimen
    category: Category
    priority: int
    tier: Tier
    summary: str
    requires: tuple[Criterion, ...]
    criteria: tuple[Criterion, ...]
    adjustments: tuple[Adjustment, ...]
    evidence: tuple[EvidenceLink, ...]
    guidelines: tuple[GuidelineRef, ...]
    rationale: tuple[str, ...]
    exposure_exempt: bool
    known_since: object
    #: the regimen gates whose selector matches this regimen whatever the patient receives now (static
    #: regimens only; the engine re-checks gates that select new or continuing drugs)
    gates: tuple[Gate, ...] | None = None


@dataclass(frozen=True)
class Note:
    id: str
    cond: Condition
    decision_points: frozenset[str]
    text: str
    when_offered: frozenset[str] = frozenset()


@dataclass(frozen=True)
class MissingText:
    fact: str
    text: str
    cond: Condition | None


@dataclass(frozen=True)
class Plan:
    """The compiled KB release: read by the per-patient engine and the cohort SQL compiler."""

    kb_release: str
    engine_version: str
    candidates: MappingProxyType[str, tuple[Candidate, ...]]
    drug_stops: MappingProxyType[str, tuple[DrugStop, ...]]
    regimen_gates: tuple[Gate, ...]
    gate_conditions: MappingProxyType[str, Condition]
    conflicts: tuple[Note, ...]
    missing: tuple[MissingText, ...]
    ongoing_trials: tuple[str, ...]
    kb: KnowledgeBase = field(repr=False, compare=False)
    #: Explanations already built for a pattern of fact values (trial fits): shared, read-only objects.
    memo: dict[tuple[object, ...], object] = field(default_factory=dict, repr=False, compare=False)

    def facts_read(self) -> frozenset[str]:
        """Every derived fact any part of the plan reads (what a cohort table must carry)."""
        names: set[str] = set()
        for cands in self.candidates.values():
            for c in cands:
                for crit in (*c.requires, *c.criteria):
                    names.update(crit.cond.facts)
                for a in c.adjustments:
                    names.update(a.cond.facts)
        for stops in self.drug_stops.values():
            for s in stops:
                names.update(s.when.facts)
        for cond in self.gate_conditions.values():
            names.update(cond.facts)
        for n in self.conflicts:
            names.update(n.cond.facts)
        return frozenset(names)


# ----------------------------------------------------------------------------- compile
def compile_plan(kb: KnowledgeBase) -> Plan:
    """Compile ``kb`` into a :class:`Plan` (pure: the same KB gives the same plan)."""
    statements = {sid: GuidelineRef(id=sid, body=g.body, statement=s.text, rating=s.rating,
                                    date=s.date or g.date, sources=list(s.sources))
                  for sid, (g, s) in kb.statements.items()}
    statics: dict[tuple[str, str], EvidenceRef] = {}
    candidates: dict[str, list[Candidate]] = {}
    for d in kb.decisions.values():
        for rule in d.options:
            cand = _candidate(kb, rule, statements, statics)
            for dp in (p for p in d.decision_points if not rule.only_at or p in rule.only_at):
                candidates.setdefault(dp, []).append(cand)
    gates = tuple(g for g in kb.safety.gates if g.kind in ("condition", "composition"))
    return Plan(
        kb_release=kb.release.kb_release,
        engine_version=__version__,
        candidates=MappingProxyType({k: tuple(v) for k, v in candidates.items()}),
        drug_stops=MappingProxyType(_drug_stops(kb)),
        regimen_gates=gates,
        gate_conditions=MappingProxyType({g.id: compile_condition(g.when) for g in gates if g.when}),
        conflicts=tuple(Note(n.id, compile_condition(n.when), frozenset(n.decision_points), n.text + _cite(n.sources),
                             frozenset(n.when_offered)) for n in kb.notes.conflicts),
        missing=tuple(MissingText(m.fact, m.text, compile_condition(m.when) if m.when else None)
                      for m in kb.notes.missing_data),
        ongoing_trials=tuple(sorted(t.id for t in kb.trials.values() if t.status == "ongoing")),
        kb=kb,
    )


def _cite(sources: Iterable[str]) -> str:
    keys = list(sources)
    return f" (Sources: {', '.join(keys)})" if keys else ""


def _criterion(c: RuleCriterion) -> Criterion:
    return Criterion(c.id, c.text, compile_condition(c.condition), c.if_unknown, tuple(c.sources))


def _regimen(kb: KnowledgeBase, rid: str) -> PlanRegimen:
    r = kb.regimens[rid]
    return PlanRegimen(r.id, r.name, tuple(PlanComponent.of(c) for c in r.components), r.dynamic)


def _own_arm(kb: KnowledgeBase, trial_id: str, regimen_id: str) -> str | None:
    """The arm of the trial given the option's own regimen (its numbers are the option's), if any."""
    return next((a.id for a in kb.trials[trial_id].arms if a.regimen == regimen_id), None)


def _candidate(kb: KnowledgeBase, rule: OptionRule, statements: dict[str, GuidelineRef],
               statics: dict[tuple[str, str], EvidenceRef]) -> Candidate:
    links = []
    for ev in rule.evidence:
        if ev.trial not in kb.trials:  # an as-of view before the trial reported
            continue
        arm = _own_arm(kb, ev.trial, rule.regimen)
        direct = arm is not None
        key = (ev.trial, ev.role)
        if key not in statics:
            statics[key] = static_evidence(kb.trials[ev.trial], ev.role)
        ref = statics[key].model_copy(update={"arm": arm})
        if not direct:
            ref = ref.model_copy(update={"support": "indirect", "endpoints": [], "esmo_mcbs": None,
                                         "basis": f"indirect support: {ev.role}"})
        links.append(EvidenceLink(ev.trial, ev.role, "direct" if direct else "indirect", ref))
    tier = Tier(label=rule.tier.label, statements=list(rule.tier.statements), text=rule.tier.note)
    guidelines = tuple(statements[s] for s in rule.guidelines if s in statements)
    rationale = (*rule.rationale, *_newer_than_guidelines(kb, [lk.trial for lk in links if lk.support == "direct"],
                                                          guidelines))
    regimen = _regimen(kb, rule.regimen)
    return Candidate(
        rule_id=rule.id, regimen=regimen, category=rule.category, priority=rule.priority,
        gates=None if regimen.dynamic else _static_gates(kb, regimen),
        tier=tier, summary=rule.summary,
        requires=tuple(_criterion(c) for c in rule.requires), criteria=tuple(_criterion(c) for c in rule.criteria),
        adjustments=tuple(Adjustment(a.id, compile_condition(a.when), a.category, a.priority, a.note)
                          for a in rule.adjustments),
        evidence=tuple(links), guidelines=guidelines,
        rationale=rationale, exposure_exempt=rule.exposure_exempt, known_since=rule.known_since,
    )


def _static_gates(kb: KnowledgeBase, regimen: PlanRegimen) -> tuple[Gate, ...]:
    """The condition and composition gates that can act on ``regimen`` (selectors of new / continuing drugs
    are matched as if every drug were both, and checked again per patient)."""
    out = []
    for g in kb.safety.gates:
        if g.kind not in ("condition", "composition"):
            continue
        sel = g.applies_to.model_copy(update={"new_only": False, "continuing_only": False})
        if selector_matches(sel, regimen.components, frozenset()):
            out.append(g)
    return tuple(out)


def _first_public(kb: KnowledgeBase, trial_id: str) -> str | None:
    """The date a trial's results first became public (its earliest endpoint's ``known_since``)."""
    t = kb.trials[trial_id]
    dates = [str(e.known_since) for e in t.endpoints if getattr(e, "known_since", None)]
    own = getattr(t, "known_since", None)
    return str(own) if own else (min(dates) if dates else None)


def _newer_than_guidelines(kb: KnowledgeBase, trials: list[str], guidelines: tuple[GuidelineRef, ...]) -> list[str]:
    """'DESTINY-Breast09 (2025-06) is newer than every guideline statement cited (ASCO 2022-06)'."""
    dated = [(g.body, str(g.date)) for g in guidelines if g.date and g.body not in ("FDA", "EMA")]
    if not dated:
        return []
    newest_body, newest = max(dated, key=lambda bd: bd[1])
    out = []
    for tid in trials:
        first = _first_public(kb, tid)
        if first and first[:7] > newest[:7]:
            out.append(f"Evidence newer than the guidelines cited: {tid} ({first[:7]}) is newer than "
                       f"{newest_body} {newest[:7]}.")
    return out


# ----------------------------------------------------------------------------- drug stops
def _drug_stops(kb: KnowledgeBase) -> dict[str, tuple[DrugStop, ...]]:
    """Every drug's stops: the safety gates' (exposure, formulary, restricted availability) in gate order,
    then its label rules'."""
    out: dict[str, list[DrugStop]] = {d: [] for d in DRUG_CLASSES}
    for g in kb.safety.gates:
        add = _GATE_STOPS.get(g.kind)
        if add is not None:
            add(g, out)
    _label_stops(kb, out)
    return {d: tuple(v) for d, v in out.items()}


def _formulary_stops(g: Gate, out: dict[str, list[DrugStop]]) -> None:
    """Any drug the patient's formulary lacks (``unavailable_drugs``) is excluded."""
    for d in out:
        out[d].append(DrugStop(g.id, "availability", compile_condition(f"'{d}' in unavailable_drugs"),
                               "exclude", "exclude", g.message.replace("{drugs}", d), sources=tuple(g.sources)))


def _restricted_stops(g: Gate, out: dict[str, list[DrugStop]]) -> None:
    """A drug of restricted availability is excluded unless listed in ``available_drugs``."""
    for d in g.restricted_drugs:
        out[d].append(DrugStop(g.id, "availability", compile_condition(f"not '{d}' in available_drugs"),
                               "exclude", "exclude", g.message.replace("{drugs}", d), sources=tuple(g.sources)))


def _label_stops(kb: KnowledgeBase, out: dict[str, list[DrugStop]]) -> None:
    """Each drug's label rules that stop or warn, dimension by dimension, in the label's order."""
    dims = {d.id: d for d in kb.label_dimensions.dimensions}
    for drug, label in kb.labels.items():
        for dim, rules in label.dimensions.items():
            for i, r in enumerate(rules):
                stop = _label_stop(kb, drug, dim, i, r, dims[dim])
                if stop is not None:
                    out[drug].append(stop)


def _exposure_stops(g: Gate, out: dict[str, list[DrugStop]]) -> None:
    for d, cls in DRUG_CLASSES.items():
        if d in g.exempt_drugs or cls is DrugClass.LOCAL_THERAPY:
            continue
        text = f"'{d}' in progressed_on"
        named = d
        if cls in g.class_level:
            text += f" or '{cls.value}' in progressed_on_classes"
            named = f"{d} or another {cls.value.replace('_', ' ')} (class-level)"
        partners = sorted({x for group in g.cross_resistant if d in group for x in group} - {d})
        if partners:
            text += "".join(f" or '{x}' in progressed_on" for x in partners)
            named = f"{d} or a cross-resistant drug ({', '.join(partners)})"
        out[d].append(DrugStop(g.id, "exposure", compile_condition(text), "exclude", "exclude",
                               g.message.replace("{drugs}", named), sources=tuple(g.sources)))


def _intolerance_stops(g: Gate, out: dict[str, list[DrugStop]]) -> None:
    """A drug stopped for toxicity before (any setting) is offered again only with a warning naming that stop."""
    for d in out:
        if d in g.exempt_drugs:
            continue
        out[d].append(DrugStop(g.id, "safety", compile_condition(f"'{d}' in stopped_for_toxicity"), "warn", None,
                               g.message.replace("{drugs}", d), sources=tuple(g.sources), title=g.title))


#: the safety gates that stop a drug, by gate kind (other kinds are evaluated per option)
_GATE_STOPS: dict[str, Callable[[Gate, dict[str, list[DrugStop]]], None]] = {
    "exposure": _exposure_stops, "intolerance": _intolerance_stops, "formulary": _formulary_stops,
    "restricted": _restricted_stops,
}


def _label_stop(kb: KnowledgeBase, drug: str, dim: str, i: int, r: LabelRule,
                dimension: LabelDimension) -> DrugStop | None:
    from mbcpath.kb.labels import effective_condition

    on_new, on_cont = LABEL_ACTIONS[r.effect]
    if on_new is None and on_cont is None:
        return None
    when = effective_condition(r, dimension)
    if_unknown = dimension.if_unknown
    verified = all(kb.sources[k].verified and not getattr(kb.sources[k], "retracted", False) for k in r.sources)
    message = f"{drug}: {r.text} (label: {r.section})"
    if not verified and "exclude" in (on_new, on_cont):
        on_new = "warn" if on_new == "exclude" else on_new
        on_cont = "warn" if on_cont == "exclude" else on_cont
        message += (" [not every source of this label rule was verified in stored material: check the label; "
                    "it excludes nothing here]")
    unknown = if_unknown if on_new == "exclude" or dimension.unknown_warns == "any" else None
    return DrugStop(f"label:{drug}:{dim}:{i}", "safety", compile_condition(when), on_new, on_cont, message,
                    overridable=r.overridable, if_unknown=unknown, sources=tuple(r.sources), dimension=dim,
                    unknown_when=compile_condition(dimension.unknown_when) if dimension.unknown_when else None,
                    title=dimension.title)


# ----------------------------------------------------------------------------- regimen gates
def selector_matches(sel: Selector, comps: Iterable[PlanComponent], current: frozenset[str]) -> bool:
    """Whether a regimen-level selector hits a regimen of these components for this patient.

    ``new_only`` / ``continuing_only`` restrict the class and drug tests to the drugs the patient
    would start / is already receiving (``current``).
    """
    comps = list(comps)
    reg_classes = frozenset(c.drug_class for c in comps)
    if sel.any_regimen:
        return True
    if sel.chemotherapy and reg_classes & CHEMOTHERAPY_CLASSES:
        return True
    if sel.chemo_free and is_chemo_free(reg_classes):
        return True
    if sel.endocrine and reg_classes & ENDOCRINE_CLASSES:
        return True
    for c in comps:
        drugs = c.drugs()
        if sel.new_only:
            drugs = tuple(d for d in drugs if d not in current)
        if sel.continuing_only:
            drugs = tuple(d for d in drugs if d in current)
        if drugs and (c.drug_class in sel.classes or set(drugs) & set(sel.drugs)):
            return True
    return False


def is_chemo_free(classes: frozenset[DrugClass]) -> bool:
    """No cytotoxic drug and no antibody-drug conjugate (local therapy alone is not a systemic option)."""
    return not (classes & CHEMOTHERAPY_CLASSES) and classes != frozenset({DrugClass.LOCAL_THERAPY})
