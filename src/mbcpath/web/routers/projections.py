"""``POST /projections``: survival projections for each recommended option."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from mbcpath.web.deps import EngineDep, KbDep, ProjectorDep
from mbcpath.web.routers.recommendations import ERRORS, PATIENT_BODY
from mbcpath.web.services import project_for, read_json

router = APIRouter(prefix="/projections", tags=["projections"])


@router.post("", summary="Project outcomes of each option for one patient", response_model=None,
             responses={200: {"description": "projections per option (mbcpath.survival.projection.Projections)",
                              "content": {"application/json": {"schema": {"type": "object"}}}}, **ERRORS},
             openapi_extra=PATIENT_BODY)
async def create_projections(request: Request, kb: KbDep, engine: EngineDep, projector: ProjectorDep) -> Response:
    """Recommend for the patient, then project PFS/OS curves for each option from its trials.

    Projections are population-level trial results, not a prediction for this patient.
    """
    data: Any = await read_json(request)
    # recommending and projecting are CPU work: off the event loop (the projection code is thread-safe)
    _, _, proj = await run_in_threadpool(project_for, data, kb, engine, projector)
    return Response(proj.model_dump_json(by_alias=True), media_type="application/json")
