"""Is a drafted drug forbidden or flagged for this patient? One small function, so it can be rewired.

:func:`drug_safety_findings` reads the engine's recommendation: ``Recommendation.safety_stops`` (once the
engine fills it), the regimens ``excluded`` with kind ``safety`` whose gate applies to the drug (from the
KB's gate selector: its drugs, classes, chemotherapy / endocrine flags), and the warnings of offered
options that contain the drug.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mbcpath.domain.drugs import CHEMOTHERAPY_CLASSES, DRUG_CLASSES, ENDOCRINE_CLASSES


@dataclass(frozen=True)
class Finding:
    """One reason a drafted drug should not be signed as it is."""

    drug: str
    severity: str  # "critical" (a hard stop) or "warning"
    gate: str
    text: str
    overridable: bool = False


def _gate_applies(gate: Any, drug: str) -> bool:
    sel = getattr(gate, "applies_to", None)
    if sel is None:
        return False
    cls = DRUG_CLASSES.get(drug)
    return bool(drug in (getattr(sel, "drugs", None) or [])
                or cls in (getattr(sel, "classes", None) or [])
                or (getattr(sel, "chemotherapy", False) and cls in CHEMOTHERAPY_CLASSES)
                or (getattr(sel, "endocrine", False) and cls in ENDOCRINE_CLASSES)
                or getattr(sel, "any_regimen", False))


def drug_safety_findings(rec: Any, drugs: list[str], kb: Any) -> list[Finding]:
    """Findings for each drafted drug (empty when the drugs are safe for this patient as far as mbcpath knows)."""
    gates = {g.id: g for g in kb.safety.gates}
    out: list[Finding] = []
    for drug in drugs:
        found = _from_stops(rec, drug) + _from_excluded(rec, drug, gates) + _from_warnings(rec, drug)
        seen: set[str] = set()
        out += [f for f in found if not (f.gate in seen or seen.add(f.gate))]  # type: ignore[func-returns-value]
    return out


def _from_stops(rec: Any, drug: str) -> list[Finding]:
    return [Finding(drug, "critical" if s.severity == "stop" else "warning", s.gate, s.text, s.overridable)
            for s in getattr(rec, "safety_stops", []) if drug in s.drugs]


def _from_excluded(rec: Any, drug: str, gates: dict[str, Any]) -> list[Finding]:
    out = []
    for ex in rec.excluded:
        if ex.kind != "safety":
            continue
        for gid in ex.gates:
            gate = gates.get(gid)
            if gate is not None and getattr(gate, "effect", "") == "exclude" and _gate_applies(gate, drug):
                text = next((r for r in ex.reasons if drug in r or gid in r), ex.reasons[0] if ex.reasons else gid)
                out.append(Finding(drug, "critical", gid, text, bool(getattr(gate, "overridable", ex.overridable))))
    return out


def _from_warnings(rec: Any, drug: str) -> list[Finding]:
    out = []
    for opt in rec.options:
        if drug not in opt.items():
            continue
        for w in opt.warnings:
            if drug in w.lower():
                out.append(Finding(drug, "warning", f"warning:{w[:40]}", w))
    return out
