"""CDS Hooks 2.0.1 cards from a recommendation (patient-view) and from safety findings (order hooks).

Rules kept here: ``summary`` < 140 characters; ``indicator`` info | warning | critical; every card has
``source`` (label, url, topic); no null values and no empty lists or objects in the response; a card with
suggestions has ``selectionBehavior``; ``overrideReasons`` on cards that stop or warn.

References
----------
HL7 CDS Hooks 2.0.1, "CDS Service Response" (Card, Source, Suggestion, Action, Link, overrideReasons).
HL7 CDS Hooks 3.0.0 ballot, CodeSystem non-adherence-reason-codes (override reason codes used here).
"""

from __future__ import annotations

import uuid
from typing import Any

from mbcpath.interop import codes as C

OVERRIDE_SYSTEM = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
OVERRIDE_REASONS = [
    {"system": OVERRIDE_SYSTEM, "code": "cds-not-applicable", "display": "PC CDS does not apply to patient"},
    {"system": OVERRIDE_SYSTEM, "code": "recipient-disagrees-evidence",
     "display": "Recipient disagrees with the evidence"},
    {"system": OVERRIDE_SYSTEM, "code": "recipient-concerns-outcomes",
     "display": "Recipient has concerns about outcomes"},
    {"system": C.MBCPATH_CODES, "code": "specialist-review",
     "display": "Reviewed by a specialist (e.g. cardio-oncology)"},
]
DP_WORDS = {"first_line": "first line", "maintenance": "maintenance", "second_line": "second line",
            "third_line_or_later": "third line or later", "cns_event": "CNS event"}


def clip(text: str, limit: int = 139) -> str:
    """One line under ``limit`` characters (CDS Hooks: summary < 140)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def prune(obj: Any) -> Any:
    """Drop None values and empty strings, lists and objects, recursively (the spec forbids nulls)."""
    if isinstance(obj, dict):
        out = {k: prune(v) for k, v in obj.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(obj, list):
        return [x for x in (prune(v) for v in obj) if x not in (None, "", [], {})]
    return obj


def source(rec: Any, base_url: str) -> dict[str, Any]:
    return {"label": f"mbcpath (KB {rec.kb_release}, engine {rec.engine_version}; not a medical device)",
            "url": base_url.rstrip("/") + "/docs",
            "topic": {"system": C.MBCPATH_CODES, "code": "her2-mbc-treatment", "display": "HER2+ MBC treatment"}}


def smart_link(app_url: str, patient_id: str) -> dict[str, Any]:
    return {"label": "Open mbcpath with this patient", "url": app_url.rstrip("/") + "/launch", "type": "smart",
            "appContext": f'{{"patient":"{patient_id}"}}'}


def _option_lines(rec: Any, n: int = 3) -> str:
    lines = []
    for o in rec.options[:n]:
        trials = ", ".join(e.trial for e in o.evidence[:3])
        lines.append(f"{o.rank}. **{o.name}** ({o.category.value})" + (f": {trials}" if trials else ""))
    return "\n".join(lines)


def patient_view_cards(rec: Any, patient_id: str, base_url: str, app_url: str) -> list[dict[str, Any]]:
    """Decision point + top options (or out of scope), then one card per safety stop."""
    src = source(rec, base_url)
    link = smart_link(app_url, patient_id)
    if rec.out_of_scope:
        return [prune({"uuid": str(uuid.uuid4()), "summary": clip(f"mbcpath: out of scope: {rec.out_of_scope}"),
                       "indicator": "info", "detail": "\n".join(f"- {m}" for m in rec.missing_data[:6]),
                       "source": src, "links": [link]})]
    dp = DP_WORDS.get(str(rec.decision_point.value) if rec.decision_point else "", "decision point unknown")
    top = rec.options[0].name if rec.options else "no option"
    detail = _option_lines(rec)
    if rec.missing_data:
        detail += f"\n\nMissing data ({len(rec.missing_data)}): " + "; ".join(rec.missing_data[:3])
    if rec.conflicts:
        detail += f"\n\nConflicts: {len(rec.conflicts)} (open mbcpath to weigh them)"
    main = {"uuid": str(uuid.uuid4()), "summary": clip(f"HER2+ MBC, {dp}: top option {top}"), "indicator": "info",
            "detail": detail, "source": src, "links": [link]}
    suggestion = _suggestion(rec)
    if suggestion:
        main["suggestions"] = [suggestion]
        main["selectionBehavior"] = "at-most-one"
    cards = [main] + [_stop_card(x, src, link) for x in _safety_exclusions(rec)]
    return [prune(c) for c in cards]


def _safety_exclusions(rec: Any) -> list[tuple[str, str, bool]]:
    """(gate, text, overridable) per distinct safety gate that excluded something (or engine safety stops)."""
    seen: dict[str, tuple[str, str, bool]] = {}
    for s in getattr(rec, "safety_stops", []):
        if s.severity == "stop":
            seen.setdefault(s.gate, (s.gate, s.text, s.overridable))
    for ex in rec.excluded:
        if ex.kind == "safety" and ex.gates:
            seen.setdefault(ex.gates[-1], (ex.gates[-1], ex.reasons[-1] if ex.reasons else ex.gates[-1],
                                           ex.overridable))
    return list(seen.values())[:4]


def _stop_card(stop: tuple[str, str, bool], src: dict[str, Any], link: dict[str, Any]) -> dict[str, Any]:
    gate, text, overridable = stop
    return {"uuid": str(uuid.uuid4()), "summary": clip(f"Safety stop: {text}"), "indicator": "warning",
            "detail": f"{text}\n\nGate `{gate}`" + (" (overridable with a documented reason)." if overridable else "."),
            "source": src, "links": [link], "overrideReasons": OVERRIDE_REASONS}


def _suggestion(rec: Any) -> dict[str, Any] | None:
    """Propose the top option's drugs as draft MedicationRequests (intent proposal) the clinician may accept."""
    if not rec.options:
        return None
    opt = rec.options[0]
    actions = []
    for comp in opt.components:
        codes = C.rxnorm_for(comp.drug).get("ingredient") if comp.drug else None
        if not codes:
            continue
        actions.append({"type": "create", "description": f"Propose {comp.drug} ({opt.name})", "resource": {
            "resourceType": "MedicationRequest", "status": "draft", "intent": "proposal",
            "medicationCodeableConcept": {"coding": [{"system": C.RXNORM, "code": codes[0], "display": comp.drug}]},
            "subject": {"reference": f"Patient/{rec.patient_id}"}}})
    if not actions:
        return None
    return {"label": clip(f"Draft {opt.name}", 80), "uuid": str(uuid.uuid4()), "isRecommended": False,
            "actions": actions}


def order_cards(findings: list[Any], rec: Any, base_url: str, app_url: str, patient_id: str) -> list[dict[str, Any]]:
    """One card per drafted drug and gate: critical for a hard stop, warning otherwise; none when safe."""
    src, link = source(rec, base_url), smart_link(app_url, patient_id)
    cards = []
    for f in findings:
        word = "Do not start" if f.severity == "critical" else "Check before starting"
        cards.append(prune({
            "uuid": str(uuid.uuid4()), "summary": clip(f"{word} {f.drug}: {f.text}"), "indicator": f.severity,
            "detail": f"{f.text}\n\nSafety gate `{f.gate}` of mbcpath's knowledge base"
                      + (" (overridable with a documented reason)." if f.overridable else "."),
            "source": src, "links": [link], "overrideReasons": OVERRIDE_REASONS}))
    return cards
