"""``POST /projections``: survival projections for each recommended option.

Route plumbing only: the computation is :func:`mbcpath.survival.projection.project_options`,
run in a worker process (:meth:`mbcpath.web.offload.Offloader.run_process`) so that a cold fit
never holds the event loop.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mbcpath.web.answers import patient_from_body, projection_answer
from mbcpath.web.delivery import deliver, read_body
from mbcpath.web.deps import load_engine, load_projector, serving
from mbcpath.web.routers.recommendations import ERRORS, PATIENT_BODY

router = APIRouter(prefix="/projections", tags=["projections"])


@router.post("", summary="Project outcomes of each option for one patient", response_model=None,
             responses={200: {"description": "projections per option (mbcpath.survival.projection.Projections)",
                              "content": {"application/json": {"schema": {"type": "object"}}}}, **ERRORS},
             openapi_extra=PATIENT_BODY)
async def create_projections(request: Request) -> Response:
    """Recommend for the patient, then project PFS/OS curves for each option from its trials.

    Projections are population-level trial results, not a prediction for this patient.
    """
    load_engine()
    load_projector()  # 503 problem details here, not in the worker, when the survival extra is missing
    _, offload, audit = serving(request)
    settings = request.app.state.settings
    body = await read_body(request)
    patient = await offload.run_thread(patient_from_body, body)
    answer = await offload.run_process(projection_answer, patient, settings.kb_path)
    return await deliver(request, answer, audit, offload)
