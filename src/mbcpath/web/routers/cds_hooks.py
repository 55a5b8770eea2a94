"""CDS Hooks 2.0.1 endpoints under ``/cds-services`` (logic in :mod:`mbcpath.interop.cds`).

Every call needs the EHR's JWT (``Authorization: Bearer``): 401 otherwise, with the reason. Without a
trusted-issuer file (``MBCPATH_CDS_TRUSTED_ISSUERS``) every call is refused and the log says why.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from mbcpath.web.deps import EngineDep, KbDep

log = logging.getLogger("mbcpath.cds")
router = APIRouter(prefix="/cds-services", tags=["cds-hooks"])


def _config(request: Request) -> Any:
    from mbcpath.interop.cds.hooks import CdsConfig

    cfg = getattr(request.app.state, "cds", None)
    if cfg is None:
        cfg = CdsConfig.from_env()
        if cfg.issuers.problem:
            log.error("CDS Hooks: %s", cfg.issuers.problem)
        request.app.state.cds = cfg
    return cfg


def _unauthorized(reason: str) -> JSONResponse:
    from mbcpath.interop.outcome import FhirIssue, operation_outcome

    log.warning("CDS Hooks call refused: %s", reason)
    return JSONResponse(operation_outcome([FhirIssue("Authorization", None, reason, code="login")]), status_code=401,
                        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _authenticate(request: Request, suffix: str) -> Response | None:
    from mbcpath.interop.cds.auth import CdsAuthError, verify

    cfg = _config(request)
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return _unauthorized(cfg.issuers.problem or "a bearer JWT is required (CDS Hooks 2.0.1)")
    try:
        verify(header[7:].strip(), cfg.base_url + suffix, cfg.issuers, cfg.replay)
    except CdsAuthError as err:
        return _unauthorized(str(err))
    return None


async def _body(request: Request) -> Any:
    from mbcpath.web.services import parse_json_bytes

    return parse_json_bytes(await request.body())


_OUTCOME = {"description": "OperationOutcome (FHIR) naming the problem",
            "content": {"application/fhir+json": {"schema": {"type": "object"}},
                        "application/json": {"schema": {"type": "object"}}}}
#: What a CDS Hooks call can answer besides 200 (CDS Hooks 2.0.1: JWT on every call, 412 without prefetch).
CDS_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _OUTCOME, 401: _OUTCOME, 404: _OUTCOME, 405: _OUTCOME, 412: _OUTCOME, 413: _OUTCOME, 415: _OUTCOME,
    422: _OUTCOME, 429: _OUTCOME, 503: _OUTCOME,
}


@router.get("", summary="CDS Hooks discovery", responses=CDS_ERRORS)
async def discovery(request: Request) -> Response:
    from mbcpath.interop.cds.services import discovery as doc

    return _authenticate(request, "") or JSONResponse(doc())


@router.post("/{service_id}", summary="Call a CDS service", responses=CDS_ERRORS)
async def call_service(service_id: str, request: Request, kb: KbDep, engine: EngineDep) -> Response:
    from starlette.concurrency import run_in_threadpool

    from mbcpath.interop.cds.hooks import CdsRequestError, answer

    refused = _authenticate(request, f"/{service_id}")
    if refused:
        return refused
    body = await _body(request)
    try:
        return JSONResponse(await run_in_threadpool(answer, service_id, body, kb, engine, _config(request)))
    except CdsRequestError as err:
        return Response(json.dumps(err.outcome), status_code=err.status, media_type="application/fhir+json")


@router.post("/{service_id}/feedback", summary="Feedback on the cards of a CDS service", responses=CDS_ERRORS)
async def feedback(service_id: str, request: Request) -> Response:
    from mbcpath.interop.cds.feedback import FeedbackError
    from mbcpath.interop.cds.services import SERVICES

    refused = _authenticate(request, f"/{service_id}/feedback")
    if refused:
        return refused
    if service_id not in SERVICES:
        return JSONResponse({"detail": f"no CDS service {service_id!r}"}, status_code=404)
    try:
        _config(request).store.add(service_id, await _body(request))
    except FeedbackError as err:
        return JSONResponse({"detail": str(err)}, status_code=400)
    return JSONResponse({})


@router.get("/{service_id}/feedback", summary="Stored feedback of a CDS service (concordance audit)",
            responses=CDS_ERRORS)
async def read_feedback(service_id: str, request: Request) -> Response:
    refused = _authenticate(request, f"/{service_id}/feedback")
    return refused or JSONResponse({"feedback": _config(request).store.read(service_id)})
