"""Apply the KB's safety gates (domain.md section 5) to one candidate regimen.

References
----------
Giordano SH et al. J Clin Oncol 2022;40:2612-35 (ASCO HER2+ advanced guideline).
Enhertu (trastuzumab deruxtecan) prescribing information: ILD/pneumonitis and LVEF management.
Kisqali (ribociclib) prescribing information: start only if QTcF < 450 ms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mbcpath.domain.drugs import DRUG_CLASSES, ENDOCRINE_CLASSES, DrugClass
from mbcpath.engine.regimens import WorkingComponent, WorkingRegimen
from mbcpath.kb.models import Gate, Selector
from mbcpath.rules.conditions import compile_condition

_DEMOTE = {"preferred": "alternative"}


@dataclass
class GateOutcome:
    """What the gates did to one regimen."""

    excluded: list[str] = field(default_factory=list)
    gate_ids: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    overridable: bool = True
    warnings: list[str] = field(default_factory=list)
    demoted: bool = False
    notes: list[str] = field(default_factory=list)
    unknown_facts: list[str] = field(default_factory=list)

    def block(self, reason: str, gate_id: str, kind: str, *, overridable: bool = False) -> None:
        """Record a stop: the regimen goes to ``excluded`` with this reason."""
        self.excluded.append(reason)
        self.gate_ids.append(gate_id)
        self.kinds.append(kind)
        self.overridable = self.overridable and overridable


def _fmt(message: str, values: Mapping[str, Any], drugs: list[str] | None = None) -> str:
    """Fill ``{fact}`` and ``{drugs}`` placeholders of a gate message from :func:`format_values`."""
    if "{" not in message:
        return message
    try:
        return message.format(**values, drugs=", ".join(drugs or []))
    except (KeyError, IndexError, ValueError):
        return message


def format_values(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Scalar facts formatted for messages (numbers without trailing zeros)."""
    return {k: (f"{v:g}" if isinstance(v, float) else v) for k, v in facts.items()
            if isinstance(v, (int, float, str))}


def _matches(sel: Selector, reg: WorkingRegimen, current: frozenset[str]) -> list[str]:
    """The regimen's drugs (or class labels) the selector hits; empty list = no match."""
    if sel.any_regimen:
        return reg.labels()
    if sel.chemotherapy and reg.has_chemotherapy():
        return reg.labels()
    if sel.chemo_free and reg.is_chemo_free():
        return reg.labels()
    if sel.endocrine and reg.has_endocrine():
        return reg.labels()
    hits: list[str] = []
    for c in reg.components:
        drugs = c.drugs()
        if sel.new_only:
            drugs = [d for d in drugs if d not in current]
        if sel.continuing_only:
            drugs = [d for d in drugs if d in current]
        if not drugs:
            continue
        if c.drug_class in sel.classes or any(d in sel.drugs for d in drugs):
            hits.append(c.label())
    return hits


def gate_verdicts(gates: list[Gate], facts: Mapping[str, Any]) -> dict[str, bool | None]:
    """Evaluate each condition gate's ``when`` once per patient."""
    return {g.id: compile_condition(g.when).evaluate(facts) for g in gates if g.when is not None}


def active_gates(gates: list[Gate], verdicts: Mapping[str, bool | None]) -> list[Gate]:
    """The gates that can act for this patient: the special kinds, true conditions, and
    unknown conditions that have an ``if_unknown`` warning (the others cannot change anything)."""
    return [g for g in gates
            if g.kind != "condition" or verdicts.get(g.id) or (verdicts.get(g.id) is None and g.if_unknown)]


def apply_gates(gates: list[Gate], reg: WorkingRegimen, facts: Mapping[str, Any], *,
                exposure_exempt: bool, overrides: Mapping[str, str],
                verdicts: Mapping[str, bool | None] | None = None,
                message_values: Mapping[str, Any] | None = None) -> GateOutcome:
    """Run every gate over ``reg`` (mutating its components for choice filters).

    ``verdicts`` (from :func:`gate_verdicts`) and ``message_values`` (from :func:`format_values`)
    are computed once per patient by the caller, not once per regimen.
    """
    out = GateOutcome()
    if verdicts is None:
        verdicts = gate_verdicts(gates, facts)
    values = format_values(facts) if message_values is None else message_values
    current: frozenset[str] = facts.get("current_drugs") or frozenset()
    for g in gates:
        if g.kind == "exposure":
            if not exposure_exempt:
                _exposure(g, reg, facts, out, values)
        elif g.kind == "formulary":
            _remove(g, reg, set(facts.get("unavailable_drugs") or ()), out, values)
        elif g.kind == "restricted":
            available = set(facts.get("available_drugs") or ())
            blocked = [d for d in g.restricted_drugs if d in reg.drugs() and d not in available]
            if blocked:
                out.block(_fmt(g.message, values, blocked), g.id, "availability")
        else:
            verdict = verdicts.get(g.id)
            if verdict is False or (verdict is None and not g.if_unknown):
                continue
            _condition_gate(g, verdict, reg, facts, current, out, overrides, values)
    return out


def _filter(reg: WorkingRegimen, is_blocked: Callable[[WorkingComponent, str], bool]) -> tuple[list[str], list[str]]:
    """Drop blocked drugs from class choices; return (blocking components, notes on removed choices)."""
    blocked: list[str] = []
    removed: list[str] = []
    for c in reg.components:
        if c.drug is not None:
            if is_blocked(c, c.drug):
                blocked.append(c.drug)
        elif c.choices:
            keep = [d for d in c.choices if not is_blocked(c, d)]
            if not keep:
                blocked.append(c.label())
            elif len(keep) < len(c.choices):
                removed.append(f"{c.name or c.drug_class.value}: {', '.join(d for d in c.choices if d not in keep)}")
                c.choices = keep
    return blocked, removed


def _exposure(g: Gate, reg: WorkingRegimen, facts: Mapping[str, Any], out: GateOutcome,
              values: Mapping[str, Any]) -> None:
    progressed: frozenset[str] = facts.get("progressed_on") or frozenset()
    prog_classes = {DRUG_CLASSES[d] for d in progressed}

    def is_blocked(c: WorkingComponent, d: str) -> bool:
        if d in g.exempt_drugs:
            return False
        return d in progressed or (c.drug_class in g.class_level and c.drug_class in prog_classes)

    blocked, removed = _filter(reg, is_blocked)
    out.notes.extend(f"{r} removed from the choices (progressed on this drug or class)" for r in removed)
    if blocked:
        out.block(_fmt(g.message, values, blocked), g.id, "exposure")


def _remove(g: Gate, reg: WorkingRegimen, unavailable: set[str], out: GateOutcome,
            values: Mapping[str, Any]) -> None:
    if not unavailable:
        return
    blocked, removed = _filter(reg, lambda c, d: d in unavailable)
    out.notes.extend(f"{r} removed from the choices (not on the local formulary)" for r in removed)
    if blocked:
        out.block(_fmt(g.message, values, blocked), g.id, "availability")


def _condition_gate(g: Gate, verdict: bool | None, reg: WorkingRegimen, facts: Mapping[str, Any],
                    current: frozenset[str], out: GateOutcome, overrides: Mapping[str, str],
                    values: Mapping[str, Any]) -> None:
    hits = _matches(g.applies_to, reg, current)
    if not hits:
        return
    if verdict is None:
        if g.if_unknown and g.when is not None:
            out.warnings.append(g.if_unknown)
            out.unknown_facts.extend(compile_condition(g.when).unknown_facts(facts))
        return
    message = _fmt(g.message, values, hits)
    if g.effect == "exclude":
        if g.overridable and g.id in overrides:
            out.warnings.append(f"Hard stop overridden by the clinician ({overrides[g.id]}): {message}")
            return
        out.block(message, g.id, "safety", overridable=g.overridable)
    elif g.effect == "warn":
        out.warnings.append(message)
    elif g.effect == "demote":
        out.demoted = True
        out.warnings.append(message)
    elif g.effect == "add_component" and g.component is not None:
        if not any(c.drug_class is g.component.drug_class for c in reg.components):
            added = WorkingComponent.from_spec(g.component)
            unavailable = facts.get("unavailable_drugs") or frozenset()
            if added.choices:
                added.choices = [d for d in added.choices if d not in unavailable]
            if not added.drugs() or (added.drug is not None and added.drug in unavailable):
                out.block(f"{message}, but no {g.component.name or g.component.drug_class.value} "
                          "is available on the local formulary", g.id, "availability")
                return
            reg.components.append(added)
            out.notes.append(message)


def cdk46_without_endocrine(reg: WorkingRegimen) -> bool:
    """A CDK4/6 inhibitor is always given with endocrine therapy (domain.md section 4.2)."""
    classes = reg.classes()
    return DrugClass.CDK46_INHIBITOR in classes and not (classes & ENDOCRINE_CLASSES)


ExclusionKind = Literal["safety", "exposure", "availability", "not_indicated"]
_KIND_ORDER: tuple[ExclusionKind, ...] = ("safety", "exposure", "availability", "not_indicated")


def main_kind(kinds: list[str]) -> ExclusionKind:
    """The most important reason kind (a hard safety stop outranks the others)."""
    ranked = [k for k in _KIND_ORDER if k in kinds]
    return ranked[0] if ranked else "not_indicated"


def demote(category: str) -> str:
    return _DEMOTE.get(category, category)
