"""The recommendation as FHIR R4: a ``GuidanceResponse`` whose ``result`` is a ``RequestGroup`` proposal.

Why this pair: a GuidanceResponse is FHIR's record of what a decision-support module returned for a subject
at a time (``moduleUri``, ``occurrenceDateTime``, ``status``, ``dataRequirement`` for the missing data,
``note`` for conflicts), which is what an EHR must store to show later "what was shown"; its ``result``
RequestGroup (``intent = proposal``) holds the ranked options as actions (``priority``, ``code`` = RxNorm
ingredients, ``documentation`` = the trials cited), and excluded regimens as ``selectionBehavior`` -free
actions with the reasons in ``description``. Nothing is ordered: a proposal is not an order.

The output is validated with fhir.resources' R4B models before it is returned.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from mbcpath.interop import codes as C

MODULE_URI = "urn:mbcpath:module:her2-mbc-recommendation"


def _drug_codes(drug: str | None) -> list[dict[str, str]]:
    if not drug:
        return []
    ingredient = C.rxnorm_for(drug).get("ingredient") or []
    if not ingredient:
        return []
    return [{"system": C.RXNORM, "code": ingredient[0], "display": drug}]


def _option_action(opt: Any) -> dict[str, Any]:
    codes = [c for comp in opt.components for c in _drug_codes(comp.drug)]
    action: dict[str, Any] = {
        "id": f"option-{opt.rank}", "prefix": str(opt.rank), "title": opt.name,
        "description": opt.summary or "; ".join(opt.rationale[:2]) or opt.name,
        "textEquivalent": f"{opt.rank}. {opt.name} ({opt.category.value})",
        "priority": "routine", "code": [{"coding": codes, "text": opt.regimen_id}] if codes else
        [{"text": opt.regimen_id}],
    }
    docs = [{"type": "citation", "display": e.trial, "citation": e.publication or e.trial} for e in opt.evidence]
    if docs:
        action["documentation"] = docs
    if opt.warnings:
        action["description"] += " Warnings: " + "; ".join(opt.warnings)
    return action


def _excluded_action(ex: Any) -> dict[str, Any]:
    return {"id": f"excluded-{ex.regimen_id}", "title": f"Not offered: {ex.name or ex.regimen_id}",
            "description": "; ".join(ex.reasons) or ex.kind, "code": [{"text": f"excluded:{ex.kind}"}]}


def recommendation_to_fhir(rec: Any, patient_ref: str | None = None, as_of: date | None = None) -> dict[str, Any]:
    """A collection Bundle: GuidanceResponse (what was shown, when, on what data) + RequestGroup (the options)."""
    from fhir.resources.R4B.bundle import Bundle

    subject = {"reference": patient_ref or f"Patient/{rec.patient_id}"}
    when = (as_of or date.today()).isoformat()
    rg_id = f"mbcpath-{rec.patient_id}-options"[:64]
    request_group: dict[str, Any] = {
        "resourceType": "RequestGroup", "id": rg_id, "status": "draft", "intent": "proposal", "subject": subject,
        "authoredOn": when, "code": {"text": f"HER2+ MBC options at {rec.decision_point or 'unknown'}"},
        "action": [_option_action(o) for o in rec.options] + [_excluded_action(x) for x in rec.excluded],
    }
    if not request_group["action"]:
        del request_group["action"]
    notes = [{"text": f"Out of scope: {rec.out_of_scope}"}] if rec.out_of_scope else []
    notes += [{"text": f"Conflict: {c}"} for c in rec.conflicts]
    notes += [{"text": f"Input: {n}"} for n in rec.input_notes]
    notes.append({"text": f"mbcpath KB {rec.kb_release}, engine {rec.engine_version}. {rec.disclaimer}"})
    guidance: dict[str, Any] = {
        "resourceType": "GuidanceResponse", "id": f"mbcpath-{rec.patient_id}"[:64], "moduleUri": MODULE_URI,
        "status": "data-requested" if rec.missing_data and not rec.options else "success", "subject": subject,
        "occurrenceDateTime": when, "note": notes, "result": {"reference": f"RequestGroup/{rg_id}"},
    }
    if rec.missing_data:
        guidance["dataRequirement"] = [{"type": "Observation", "extension": [
            {"url": C.MBCPATH_EXT + "missing-data", "valueString": m}]} for m in rec.missing_data]
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": f"urn:uuid:{guidance['id']}", "resource": guidance},
                        {"fullUrl": f"urn:uuid:{rg_id}", "resource": request_group}]}
    Bundle.model_validate(bundle)
    return bundle
