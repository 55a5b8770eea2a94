"""Evaluate one candidate option of the plan for one patient.

References
----------
shared/domain.md section 5 (safety gates: hard stops, warnings, added components) and 4.3
(the exposure rule); kb/labels/README.md (label effects: a ``do_not_start`` rule stops a new
drug and warns on a continuing one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mbcpath.domain.drugs import CHEMOTHERAPY_CLASSES, DRUG_CLASSES, ENDOCRINE_CLASSES, DrugClass
from mbcpath.domain.patient import Patient
from mbcpath.domain.recommendation import Category, Component, Criterion, EvidenceRef, Excluded, component_label
from mbcpath.engine.evidence import criterion_status, trial_fit
from mbcpath.engine.plan import Candidate, DrugStop, Plan, PlanComponent, is_chemo_free, selector_matches
from mbcpath.facts.derive import PatientFacts
from mbcpath.facts.words import explain
from mbcpath.kb.models import Gate
from mbcpath.rules.conditions import Condition

#: Override names of release 2026.11 (per-class gates): which label stops each still lifts.
_LEGACY_OVERRIDES: dict[str, tuple[str, str]] = {
    "lvef-below-50-start": ("lvef", "start"),       # do-not-start rules of the LVEF dimension
    "heart-failure-start": ("lvef", "heart_failure"),  # rules that read symptomatic heart failure
    "lvef-below-40-during": ("lvef", "withhold"),   # withhold rules on the LVEF value
}
Severity = Literal["stop", "warning"]
_KIND_ORDER = ("safety", "exposure", "availability", "not_indicated", "not_established")


@dataclass
class AppliedStop:
    """A stop or warning that acted on this patient's options (for the answer's safety summary)."""

    gate: str
    severity: Severity
    text: str
    drugs: set[str] = field(default_factory=set)
    overridable: bool = False
    sources: tuple[str, ...] = ()


@dataclass
class Run:
    """Per-patient state: facts, memoised verdicts, unknowns met on the way, stops applied."""

    plan: Plan
    pf: PatientFacts
    facts: Mapping[str, Any]
    overrides: dict[str, str]
    current: frozenset[str]
    verdicts: dict[str, bool | None] = field(default_factory=dict)
    unknown: dict[str, list[str]] = field(default_factory=dict)
    applied: dict[str, AppliedStop] = field(default_factory=dict)
    drug_memo: dict[tuple[str, bool], tuple[list[tuple[str, DrugStop]], _Outcome]] = field(default_factory=dict)
    fits: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, plan: Plan, pf: PatientFacts, patient: Patient) -> Run:
        overrides = {o.gate: o.reason for o in patient.gate_overrides}
        return cls(plan, pf, pf.values, overrides, pf.values["current_drugs"])

    def verdict(self, cond: Condition) -> bool | None:
        v = self.verdicts.get(cond.source, ...)
        if v is ...:
            v = self.verdicts[cond.source] = cond.evaluate(self.facts)
        return v  # type: ignore[return-value]

    def note_unknown(self, cond: Condition, where: str) -> list[str]:
        names = cond.unknown_facts(self.facts)
        for n in names:
            places = self.unknown.setdefault(n, [])
            if where not in places:
                places.append(where)
        return names

    def record(self, gate: str, severity: Severity, text: str, drug: str | None, *, overridable: bool = False,
               sources: tuple[str, ...] = ()) -> None:
        a = self.applied.get(gate)
        if a is None:
            a = self.applied[gate] = AppliedStop(gate, severity, text, set(), overridable, sources)
        if drug:
            a.drugs.add(drug)


@dataclass
class OptionState:
    """A candidate that passed: everything ranking and output need."""

    cand: Candidate
    name: str
    components: list[Component]
    category: Category
    priority: int
    criteria: list[Criterion]
    rationale: list[str]
    warnings: list[str]
    evidence: list[EvidenceRef]
    depends_on_unknown: list[str]
    chemo_free: bool
    avoided: bool = False
    requires_unknown: bool = False


@dataclass
class _Outcome:
    """What the stops and gates did to one regimen."""

    blocked: list[str] = field(default_factory=list)
    gates: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    overridable: bool = True
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    demoted: bool = False
    avoided: bool = False
    #: a continue-the-current-regimen option: a stopped current drug is held (named, warned) instead of
    #: stopping the local therapy it goes with
    hold: bool = False
    held: list[str] = field(default_factory=list)

    def block(self, reason: str, gate: str, kind: str, overridable: bool = False) -> None:
        self.blocked.append(reason)
        self.gates.append(gate)
        self.kinds.append(kind)
        self.overridable = self.overridable and overridable

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)


# ----------------------------------------------------------------------------- entry
def evaluate(cand: Candidate, run: Run) -> tuple[OptionState | None, Excluded | None]:
    """The option for ``cand`` (or why it is excluded) for this patient."""
    criteria, excl, depends = _requirements(cand, run)
    comps = _components(cand, run)
    name = _name(cand, comps)
    if excl is not None:
        return None, _excluded(cand, name, comps, *excl)
    if not comps:
        return None, _excluded(cand, name, comps, ["no current regimen to continue"], [cand.rule_id],
                               "not_indicated", False)
    out = _Outcome(hold=cand.regimen.dynamic)
    comps = [c for c in (_apply_drug_stops(c, cand, run, out) for c in comps) if c is not None]
    _apply_regimen_gates(comps, run, out, cand)
    if out.blocked:
        return None, _excluded(cand, name, comps, out.blocked, out.gates, _main_kind(out.kinds), out.overridable)
    if out.held:
        name = _held_name(cand, comps, out.held)
    return _state(cand, run, name, comps, criteria, depends, out), None


def _requirements(cand: Candidate, run: Run) -> tuple[list[Criterion], tuple[Any, ...] | None, list[str]]:
    criteria: list[Criterion] = []
    not_met: list[str] = []
    unknown: list[str] = []
    depends: list[str] = []
    for c in cand.requires:
        crit, v = criterion_status(c.id, c.text, c.cond, c.sources, run.facts, run.plan.memo)
        criteria.append(crit)
        if v is False:
            not_met.append(f"{c.text}: not met ({crit.detail})")
        elif v is None:
            run.note_unknown(c.cond, f"whether {cand.regimen.name} is indicated")
            if c.if_unknown == "exclude":
                unknown.append(f"{c.text}: cannot be checked ({crit.detail})")
            else:
                depends.append(f"{c.text} ({crit.detail})")
    if not_met:
        return criteria, (not_met, [cand.rule_id], "not_indicated", False), depends
    if unknown:
        return criteria, (unknown, [cand.rule_id], "not_established", False), depends
    return criteria, None, depends


def _components(cand: Candidate, run: Run) -> list[PlanComponent]:
    if not cand.regimen.dynamic:
        return list(cand.regimen.components)
    fixed = list(cand.regimen.components)
    return [*fixed, *(PlanComponent(d, DRUG_CLASSES[d]) for d in sorted(run.current))] if run.current else []


def _name(cand: Candidate, comps: list[PlanComponent]) -> str:
    if not cand.regimen.dynamic:
        return cand.regimen.name
    drugs = [c.drug for c in comps if c.drug]
    return f"{cand.regimen.name}: {' + '.join(drugs)}" if drugs else cand.regimen.name


def _held_name(cand: Candidate, comps: list[PlanComponent], held: list[str]) -> str:
    """'Local therapy ... + continue the current systemic regimen: letrozole (held: trastuzumab, pertuzumab)'."""
    kept = [c.drug for c in comps if c.drug and c.drug_class is not DrugClass.LOCAL_THERAPY]
    base = f"{cand.regimen.name}: {' + '.join(kept)}" if kept else f"{cand.regimen.name}: none"
    return f"{base} (held: {', '.join(dict.fromkeys(held))})"


def _hold(drug: str, reasons: list[str], out: _Outcome) -> None:
    """A continuing drug of a continue-the-regimen option that must not go on: hold it and say why."""
    if drug not in out.held:
        out.held.append(drug)
    out.warn(f"Hold {drug} (the rest of the option stands): " + "; ".join(reasons))


def _label(c: PlanComponent) -> str:
    return component_label(c.drug, c.drug_class, c.name, list(c.choices) or None)


def _excluded(cand: Candidate, name: str, comps: list[PlanComponent], reasons: list[str], gates: list[str],
              kind: str, overridable: bool) -> Excluded:
    labels = [_label(c) for c in comps] or [_label(c) for c in cand.regimen.components]
    return Excluded.model_construct(regimen_id=cand.regimen.id, name=name, components=labels, reasons=reasons,
                                    gates=gates, overridable=overridable, kind=kind)  # type: ignore[arg-type]


def _main_kind(kinds: list[str]) -> str:
    ranked = [k for k in _KIND_ORDER if k in kinds]
    return ranked[0] if ranked else "not_indicated"


# ----------------------------------------------------------------------------- drug stops
def _apply_drug_stops(c: PlanComponent, cand: Candidate, run: Run, out: _Outcome) -> PlanComponent | None:
    """Stops on the component's drug (or on each of its choices): blocks, removes choices, warns."""
    drugs = c.drugs()
    if not drugs:
        return c
    stopped: dict[str, list[tuple[str, DrugStop]]] = {}
    for d in drugs:
        reasons = _drug_stops_hit(d, cand, run, out)
        if reasons:
            stopped[d] = reasons
    if not stopped:
        return c
    keep = tuple(d for d in drugs if d not in stopped)
    if not keep and out.hold and c.drug in run.current:
        _hold(c.drug, [t for t, _ in stopped[c.drug]], out)
        return None
    if not keep:
        for reasons in stopped.values():
            for text, stop in reasons:
                out.block(text, stop.gate, stop.kind, stop.overridable)
        return None
    for d, reasons in stopped.items():
        out.warn(f"{d} removed from the choices of {c.name or c.drug_class.value}: "
                 + "; ".join(t for t, _ in reasons))
    return PlanComponent(None, c.drug_class, c.name, keep)


def _drug_stops_hit(drug: str, cand: Candidate, run: Run, out: _Outcome) -> list[tuple[str, DrugStop]]:
    """The stops that exclude ``drug`` for this patient (warnings are added to ``out`` on the way).

    A drug's verdict depends only on the patient and on whether the rule exempts exposure, so it is worked
    out once per patient and replayed for every regimen that contains the drug.
    """
    key = (drug, cand.exposure_exempt)
    hit = run.drug_memo.get(key)
    if hit is None:
        scratch = _Outcome()
        hit = run.drug_memo[key] = (_drug_stops(drug, cand.exposure_exempt, run, scratch), scratch)
    hits, scratch = hit
    for w in scratch.warnings:
        out.warn(w)
    out.unknown.extend(u for u in scratch.unknown if u not in out.unknown)
    return hits


def _drug_stops(drug: str, exposure_exempt: bool, run: Run, out: _Outcome) -> list[tuple[str, DrugStop]]:
    hits: list[tuple[str, DrugStop]] = []
    continuing = drug in run.current
    for stop in run.plan.drug_stops.get(drug, ()):
        if stop.kind == "exposure" and exposure_exempt:
            continue
        action = stop.on_continuing if continuing else stop.on_new
        if action is None:
            continue
        v = run.verdict(stop.when)
        if v is None:
            _unknown_stop(stop, drug, action, run, out)
        elif v:
            text = _act(stop, drug, action, run, out)
            if text is not None:
                hits.append((text, stop))
    return hits


def _unknown_stop(stop: DrugStop, drug: str, action: str, run: Run, out: _Outcome) -> None:
    if stop.if_unknown is None:
        return
    if stop.unknown_when is not None and not run.verdict(stop.unknown_when):
        return
    names = run.note_unknown(stop.when, f"whether {drug} can be given")
    out.unknown.append(f"{stop.if_unknown} ({explain(names, run.facts)})")
    out.warn(f"{drug}: {stop.if_unknown}")


def _act(stop: DrugStop, drug: str, action: str, run: Run, out: _Outcome) -> str | None:
    """Apply a stop whose condition holds; return the stop's reason when the drug is stopped."""
    basis = explain(stop.when.facts, run.facts)
    text = f"{stop.message} [this patient: {basis}]"
    if action == "warn":
        out.warn(text)
        _record_label(run, stop, "warning", basis, drug)
        return None
    override = _override(stop, run)
    if override is not None:
        out.warn(f"Stop overridden by the clinician ({override}): {text}")
        return None
    _record_label(run, stop, "stop", basis, drug)
    return text


def _record_label(run: Run, stop: DrugStop, severity: Severity, basis: str, drug: str) -> None:
    """One safety line per label dimension and severity (e.g. every drug LVEF stops), for the summary."""
    if stop.kind != "safety" or stop.dimension is None:
        return
    key = f"label:{stop.dimension}" + (":warning" if severity == "warning" else "")
    a = run.applied.get(key)
    if a is None:
        a = run.applied[key] = AppliedStop(key, severity, f"{stop.title} ({basis})", set(), stop.overridable, ())
    a.drugs.add(drug)
    a.overridable = a.overridable and stop.overridable
    a.sources = tuple(dict.fromkeys((*a.sources, *stop.sources)))


def _override(stop: DrugStop, run: Run) -> str | None:
    """The documented reason that lifts this overridable stop: its own id, its dimension, or a legacy name."""
    if not stop.overridable:
        return None
    for key, reason in run.overrides.items():
        if key in (stop.gate, stop.dimension) or _legacy_match(key, stop):
            return reason
    return None


def _legacy_match(key: str, stop: DrugStop) -> bool:
    hit = _LEGACY_OVERRIDES.get(key)
    if hit is None or hit[0] != stop.dimension:
        return False
    kind = hit[1]
    if kind == "start":
        return stop.on_continuing != "exclude"
    if kind == "heart_failure":
        return "heart_failure" in stop.when.facts
    return stop.on_continuing == "exclude" and "lvef_percent" in stop.when.facts


# ----------------------------------------------------------------------------- regimen gates
def _apply_regimen_gates(comps: list[PlanComponent], run: Run, out: _Outcome, cand: Candidate) -> None:
    static = cand.gates
    for g in (static if static is not None else run.plan.regimen_gates):
        sel = g.applies_to
        if (static is None or sel.new_only or sel.continuing_only) and not selector_matches(sel, comps, run.current):
            continue
        if g.kind == "composition":
            _composition(g, comps, run, out)
            continue
        cond = run.plan.gate_conditions[g.id]
        v = run.verdict(cond)
        if v is None:
            if g.if_unknown:
                names = run.note_unknown(cond, g.title.lower())
                out.warn(g.if_unknown)
                out.unknown.append(f"{g.if_unknown} ({explain(names, run.facts)})")
            continue
        if v:
            _gate_effect(g, comps, run, out, cand)


def _composition(g: Gate, comps: list[PlanComponent], run: Run, out: _Outcome) -> None:
    """A regimen whose companion class is missing; moot when a stop already removed that companion."""
    if out.blocked or {c.drug_class for c in comps} & set(g.needs_classes):
        return
    if out.hold and _hold_gate_drugs(g, comps, out, g.message):
        return
    out.block(g.message, g.id, "safety")
    run.record(g.id, "stop", g.message, None, sources=tuple(g.sources))


def _hold_gate_drugs(g: Gate, comps: list[PlanComponent], out: _Outcome, text: str) -> bool:
    """Hold the drugs a gate names in a continue-the-regimen option; False when it names none."""
    drugs = _gate_drugs(g, comps)
    if not drugs:
        return False
    for d in drugs:
        _hold(d, [text], out)
    comps[:] = [c for c in comps if not (c.drug and c.drug in drugs)]
    return True


def _gate_effect(g: Gate, comps: list[PlanComponent], run: Run, out: _Outcome, cand: Candidate) -> None:
    text = _fill(g.message, run.facts)
    drugs: list[str | None] = [*_gate_drugs(g, comps)] or [None]
    if g.effect == "exclude":
        override = run.overrides.get(g.id) if g.overridable else None
        if override is not None:
            out.warn(f"Stop overridden by the clinician ({override}): {text}")
            return
        for d in drugs:
            run.record(g.id, "stop", f"{g.title}: {text}", d, overridable=g.overridable, sources=tuple(g.sources))
        if not (out.hold and _hold_gate_drugs(g, comps, out, text)):
            out.block(text, g.id, "safety", g.overridable)
    elif g.effect == "add_component" and g.component is not None:
        _add_component(g, comps, run, out, text, cand)
    else:
        out.warn(text)
        out.demoted = out.demoted or g.effect == "demote"
        out.avoided = out.avoided or g.effect == "avoid"
        for d in drugs:
            run.record(g.id, "warning", f"{g.title}: {text}", d, sources=tuple(g.sources))


def _gate_drugs(g: Gate, comps: list[PlanComponent]) -> list[str]:
    """The drugs of the regimen a drug- or class-selecting gate is about (none for regimen-wide gates)."""
    sel = g.applies_to
    classes = set(sel.classes) | (ENDOCRINE_CLASSES if sel.endocrine else set()) | (
        CHEMOTHERAPY_CLASSES if sel.chemotherapy else set())
    return sorted({d for c in comps for d in c.drugs() if d in sel.drugs or c.drug_class in classes})


def _add_component(g: Gate, comps: list[PlanComponent], run: Run, out: _Outcome, text: str,
                   cand: Candidate) -> None:
    """Add the gate's component (e.g. a GnRH agonist), itself checked against every drug stop of its drugs."""
    spec = g.component
    assert spec is not None
    if any(c.drug_class is spec.drug_class for c in comps):
        return
    unavailable = run.facts.get("unavailable_drugs") or frozenset()
    choices = tuple(d for d in (spec.choices or ()) if d not in unavailable)
    if not choices and not (spec.drug and spec.drug not in unavailable):
        out.block(f"{text}, but no {spec.name or spec.drug_class.value} is available on the local formulary",
                  g.id, "availability")
        return
    added = _apply_drug_stops(PlanComponent(spec.drug, spec.drug_class, spec.name, choices), cand, run, out)
    if added is None:
        return
    comps.append(added)
    out.notes.append(text)


class _Values(dict):  # type: ignore[type-arg]
    """Fact values as a gate message shows them, formatted on first use."""

    def __init__(self, facts: Mapping[str, Any]) -> None:
        super().__init__()
        self.facts = facts

    def __missing__(self, key: str) -> Any:
        v = self.facts[key]
        if not isinstance(v, (int, float, str)):
            raise KeyError(key)
        return f"{v:g}" if isinstance(v, float) else v


def _fill(message: str, facts: Mapping[str, Any]) -> str:
    """Fill ``{fact}`` placeholders of a gate message with this patient's values."""
    if "{" not in message:
        return message
    try:
        return message.format_map(_Values(facts))
    except (KeyError, IndexError, ValueError):
        return message


# ----------------------------------------------------------------------------- the option
def _state(cand: Candidate, run: Run, name: str, comps: list[PlanComponent], criteria: list[Criterion],
           depends: list[str], out: _Outcome) -> OptionState:
    category, priority, rationale = cand.category, cand.priority, list(cand.rationale)
    for a in cand.adjustments:
        v = run.verdict(a.cond)
        if v:
            category = a.category or category
            priority += a.priority
            rationale.append(a.note)
        elif v is None:
            run.note_unknown(a.cond, f"the ranking of {cand.regimen.name}")
    if out.demoted and category is Category.PREFERRED:
        category = Category.ALTERNATIVE
    for c in cand.criteria:
        crit, v = criterion_status(c.id, c.text, c.cond, c.sources, run.facts, run.plan.memo)
        criteria.append(crit)
        if v is None:
            run.note_unknown(c.cond, f"the criterion '{c.text}' of {cand.regimen.name}")
    rationale.extend(out.notes)
    return OptionState(
        cand=cand, name=name, components=[_component(c, run.plan.memo) for c in comps], category=category,
        priority=priority,
        criteria=criteria, rationale=rationale, warnings=list(out.warnings), evidence=_evidence(cand, run),
        depends_on_unknown=[*depends, *out.unknown], chemo_free=is_chemo_free(frozenset(c.drug_class for c in comps)),
        avoided=out.avoided, requires_unknown=bool(depends),
    )


def _component(c: PlanComponent, memo: dict[Any, Any]) -> Component:
    """The output component (one shared, read-only instance per distinct component)."""
    hit = memo.get(c)
    if hit is None:
        hit = memo[c] = Component.model_construct(drug=c.drug, drug_class=c.drug_class, name=c.name,
                                                  choices=list(c.choices) if c.choices else None)
    return hit  # type: ignore[no-any-return]


def _evidence(cand: Candidate, run: Run) -> list[EvidenceRef]:
    """Each cited trial with this patient's fit (criteria explained once per pattern of the values they read)."""
    refs = []
    for link in cand.evidence:
        trial = run.plan.kb.trials[link.trial]
        fit = run.fits.get(link.trial)
        if fit is None:  # a shared TrialFit (memoised on its criteria): its id names it while the memo holds it
            fit = run.fits[link.trial] = trial_fit(trial, run.facts, run.plan.memo)
        key = ("ref", link.trial, link.role, link.support, link.static.arm, id(fit))
        ref = run.plan.memo.get(key)
        if ref is None:
            ref = run.plan.memo[key] = link.static.model_copy(update={"fit": fit})
        refs.append(ref)
    return refs  # type: ignore[return-value]
