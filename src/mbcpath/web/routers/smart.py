"""SMART App Launch: ``/launch`` (EHR or standalone) and ``/smart/callback`` (logic in mbcpath.interop.smart)."""

from __future__ import annotations

import html
import os

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mbcpath.web.deps import TemplatesDep

router = APIRouter(tags=["smart"])


def _store(request: Request):  # type: ignore[no-untyped-def]
    from mbcpath.interop.smart import LaunchStore

    if getattr(request.app.state, "smart_launches", None) is None:
        request.app.state.smart_launches = LaunchStore()
    return request.app.state.smart_launches


def _problem(text: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><title>SMART launch</title><h1>Launch failed</h1><p>{html.escape(text)}</p>"
                        "<p>mbcpath is not a medical device.</p>", status_code=400)


@router.get("/launch")
async def launch(request: Request, iss: str = "", launch: str | None = None) -> Response:
    """Start an EHR launch (``iss`` and ``launch``) or a standalone launch (``iss`` only)."""
    from mbcpath.interop.smart import SmartError, start

    if not iss:
        return _problem("iss is required: the EHR's FHIR base URL")
    redirect = os.environ.get("MBCPATH_SMART_REDIRECT_URI") or str(request.url_for("smart_callback"))
    try:
        url = await run_in_threadpool(start, iss, launch, redirect, _store(request))
    except SmartError as err:
        return _problem(str(err))
    return RedirectResponse(url, status_code=302)


@router.get("/smart/callback", name="smart_callback")
async def callback(request: Request, templates: TemplatesDep, code: str = "", state: str = "",
                   error: str | None = None) -> Response:
    """Exchange the code, read the patient from the EHR, open the results with that patient."""
    from mbcpath.interop.fhir import fhir_to_patient, merge_into
    from mbcpath.interop.outcome import FhirInputError
    from mbcpath.interop.smart import SmartError, finish, read_record
    from mbcpath.kb import load_kb
    from mbcpath.web.deps import load_engine
    from mbcpath.web.routers.results_ui import render_results

    if error or not code or not state:
        return _problem(f"authorization failed: {error or 'code and state are required'}")
    try:
        iss, token, patient_id = await run_in_threadpool(finish, code, state, _store(request))
        bundle = await run_in_threadpool(read_record, iss, token, patient_id)
        imported = fhir_to_patient(bundle, patient_id=patient_id)
    except (SmartError, FhirInputError) as err:
        return _problem(str(err))
    kb = load_kb(request.app.state.settings.kb_path)
    rec = merge_into(load_engine()(imported.patient, kb), imported)
    return await render_results(request, templates, kb, imported.patient, rec, lazy=False)
