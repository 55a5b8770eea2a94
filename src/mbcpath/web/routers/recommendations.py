"""``POST /recommendations``: a patient in the exchange contract in, a recommendation out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mbcpath.domain.recommendation import Recommendation
from mbcpath.domain.validation import loads_strict
from mbcpath.errors import InputError, Issue
from mbcpath.interop.http import fhir_recommendation, is_fhir_request
from mbcpath.web.answers import recommendation_answer
from mbcpath.web.delivery import deliver, read_body
from mbcpath.web.deps import EngineDep, serving
from mbcpath.web.problems import problem_responses

router = APIRouter(prefix="/recommendations", tags=["recommendations"])

PATIENT_BODY = {
    "requestBody": {
        "required": True,
        "description": "A patient in the exchange contract (or an example file {id, patient, expect}). Exact JSON "
                       "types (no \"56\" for 56, no \"yes\" for true), each key once, no lone surrogates.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Patient"}}},
    }
}
ERRORS: dict[int | str, dict[str, Any]] = problem_responses(400, 413, 415, 422, 503, 504)


@router.post("", summary="Recommend options for one patient", response_model=None,
             responses={200: {"model": Recommendation, "description": "the recommendation (contract)"}, **ERRORS},
             openapi_extra=PATIENT_BODY)
async def create_recommendation(request: Request, engine: EngineDep) -> Response:
    """Validate the patient and return ranked options, exclusions, conflicts and missing data.

    Nothing is stored (unless the deployment keeps an audit trail: then hashes, never the patient).
    The same input and KB release give byte-identical JSON, the bytes `mbcpath recommend --format json` prints.
    """
    kb, offload, audit = serving(request)
    body = await read_body(request)
    day = as_of_param(request)
    if is_fhir_request(request):  # a FHIR Bundle: mapped by mbcpath.interop (OperationOutcome errors)
        data = await offload.run_thread(loads_strict, body)
        return await offload.run_thread(fhir_recommendation, request, data, kb, _at(engine, day))
    answer = await offload.run_thread(recommendation_answer, body, kb, _at(engine, day))
    return await deliver(request, answer, audit, offload)


def as_of_param(request: Request) -> dt.date | None:
    """``?as_of=YYYY-MM-DD``: answer with the evidence known on that date (422 naming it when not a date)."""
    value = request.query_params.get("as_of")
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(Issue("as_of", value, "not a date (use YYYY-MM-DD)"), subject="query") from None


def _at(engine: Any, day: dt.date | None) -> Any:
    if day is None:
        return engine
    return lambda patient, kb: engine(patient, kb, as_of=day)
