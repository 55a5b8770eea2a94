"""``POST /recommendations``: a patient in the exchange contract in, a recommendation out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mbcpath.domain.recommendation import Recommendation
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
    answer = await offload.run_thread(recommendation_answer, body, kb, engine)
    return await deliver(request, answer, audit, offload)
