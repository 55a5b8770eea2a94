"""The CDS services mbcpath offers (the discovery document) and their prefetch templates."""

from __future__ import annotations

from typing import Any

PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}",
    "medicationAdministrations": "MedicationAdministration?patient={{context.patientId}}",
}

SERVICES: dict[str, dict[str, Any]] = {
    "mbcpath-patient-view": {
        "hook": "patient-view", "title": "mbcpath: HER2+ metastatic breast cancer options",
        "description": "Decision point, top ranked options with their trials, safety stops and missing data for a "
                       "patient with HER2-positive metastatic breast cancer (not a medical device).",
        "prefetch": PREFETCH,
        "usageRequirements": "Needs mCODE-coded HER2, receptor, cardiac and treatment data; reads them from the "
                             "FHIR server with fhirAuthorization when prefetch is not supplied.",
    },
    "mbcpath-order-select": {
        "hook": "order-select", "title": "mbcpath: HER2+ MBC safety check of a selected order",
        "description": "Warns when a selected cancer drug meets a safety gate (QTcF and ribociclib, ILD and T-DXd, "
                       "LVEF and anti-HER2 therapy, pregnancy).", "prefetch": PREFETCH,
    },
    "mbcpath-order-sign": {
        "hook": "order-sign", "title": "mbcpath: HER2+ MBC safety check before signing",
        "description": "Stops or warns before signing a cancer drug order that a safety gate forbids or flags.",
        "prefetch": PREFETCH,
    },
}


def discovery() -> dict[str, Any]:
    """The ``GET /cds-services`` body."""
    return {"services": [{"id": sid, **spec} for sid, spec in SERVICES.items()]}


def fill(template: str, context: dict[str, Any]) -> str | None:
    """A prefetch template with its ``{{context.x}}`` tokens filled; None when a token has no value."""
    out = template
    for key, value in context.items():
        token = "{{context." + key + "}}"
        if token in out:
            if not isinstance(value, str):
                return None
            out = out.replace(token, value)
    return None if "{{" in out else out
