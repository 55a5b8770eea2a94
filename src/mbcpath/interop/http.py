"""The FHIR branch of ``POST /api/v1/recommendations`` (``Content-Type: application/fhir+json``).

A Bundle (or a resource list) in; the contract's recommendation out, with the import's missing data,
conflicts and input notes merged; ``Accept: application/fhir+json`` returns the FHIR export instead
(:mod:`mbcpath.interop.export`). Errors are ``OperationOutcome`` resources (422 for unmappable FHIR,
400 for a body that is not FHIR). Query ``as_of=YYYY-MM-DD`` sets the decision date (default today).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import Response

FHIR_JSON = "application/fhir+json"


def is_fhir_request(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == FHIR_JSON


def _outcome(status: int, outcome: dict[str, Any]) -> Response:
    return Response(json.dumps(outcome), status_code=status, media_type=FHIR_JSON)


def fhir_recommendation(request: Request, data: Any, kb: Any, engine: Any) -> Response:
    """Import the FHIR body, run the engine, answer in the contract (or FHIR when asked)."""
    from mbcpath.interop.export import recommendation_to_fhir
    from mbcpath.interop.fhir import fhir_to_patient, merge_into
    from mbcpath.interop.fhir_read import looks_like_fhir
    from mbcpath.interop.outcome import FhirInputError, FhirIssue, operation_outcome

    try:
        as_of = date.fromisoformat(request.query_params.get("as_of") or date.today().isoformat())
    except ValueError:
        return _outcome(400, operation_outcome([FhirIssue("as_of", request.query_params.get("as_of"),
                                                          "not a date (YYYY-MM-DD)")]))
    if not looks_like_fhir(data):
        return _outcome(400, operation_outcome([FhirIssue("(root)", None, "application/fhir+json needs a FHIR "
                                                          "Bundle or resource (no resourceType)", code="structure")]))
    try:
        imported = fhir_to_patient(data, as_of)
    except FhirInputError as err:
        return _outcome(422, err.operation_outcome())
    rec = merge_into(engine(imported.patient, kb), imported)
    if FHIR_JSON in request.headers.get("accept", ""):
        return Response(json.dumps(recommendation_to_fhir(rec, as_of=as_of)), media_type=FHIR_JSON)
    return Response(rec.model_dump_json(by_alias=True), media_type="application/json")
