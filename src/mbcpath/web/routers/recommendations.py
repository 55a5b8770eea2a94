"""``POST /recommendations``: a patient in the exchange contract in, a recommendation out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mbcpath.domain.recommendation import Recommendation
from mbcpath.interop.http import fhir_recommendation, is_fhir_request
from mbcpath.web.deps import EngineDep, KbDep
from mbcpath.web.schemas import Problem
from mbcpath.web.services import read_json, recommend_for

router = APIRouter(prefix="/recommendations", tags=["recommendations"])

PATIENT_BODY = {
    "requestBody": {
        "required": True,
        "description": "A patient in the exchange contract (or an example file {id, patient, expect}).",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Patient"}}},
    }
}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "malformed JSON", "content": {"application/problem+json": {}}},
    413: {"model": Problem, "description": "body too large", "content": {"application/problem+json": {}}},
    415: {"model": Problem, "description": "not JSON", "content": {"application/problem+json": {}}},
    422: {"model": Problem, "description": "invalid patient: `errors` names each field path and rule",
          "content": {"application/problem+json": {}}},
    503: {"model": Problem, "description": "knowledge base or engine unavailable",
          "content": {"application/problem+json": {}}},
}


@router.post("", summary="Recommend options for one patient", response_model=None,
             responses={200: {"model": Recommendation, "description": "the recommendation (contract)"}, **ERRORS},
             openapi_extra=PATIENT_BODY)
async def create_recommendation(request: Request, kb: KbDep, engine: EngineDep) -> Response:
    """Validate the patient and return ranked options, exclusions, conflicts and missing data.

    Nothing is stored. The same input and KB release give byte-identical JSON.
    """
    data = await read_json(request)
    if is_fhir_request(request):  # a FHIR Bundle: mapped by mbcpath.interop (OperationOutcome errors)
        return fhir_recommendation(request, data, kb, engine)
    _, rec = recommend_for(data, kb, engine)
    return Response(rec.model_dump_json(by_alias=True), media_type="application/json")
