"""The results page: a shell at ``GET /results`` whose script posts the patient carried by the URL fragment,
and ``POST /results`` that renders the board and everything one click deeper.

Projections load after the board (``POST /results/projections``) so that the board view
never waits for a survival fit; without JavaScript they are rendered in the page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from mbcpath.errors import InputError
from mbcpath.kb import KnowledgeBase
from mbcpath.web.deps import KbDep, TemplatesDep
from mbcpath.web.services import MalformedJson, parse_json_bytes, unwrap_patient
from mbcpath.web.share import TokenError, decode_patient

router = APIRouter()


async def posted_patient(request: Request) -> Any:
    """The patient posted as a link token (field ``p``) or as JSON text (field ``patient_json``), unwrapped.

    Raises :class:`MalformedJson` or :class:`TokenError` with a reason that never echoes the data.
    """
    form = await request.form()
    token = form.get("p")
    if isinstance(token, str) and token:
        return unwrap_patient(decode_patient(token))
    raw = form.get("patient_json")
    return unwrap_patient(parse_json_bytes(raw.encode() if isinstance(raw, str) else b""))


async def render_results(request: Request, templates: Any, kb: KnowledgeBase, patient: Any, rec: Any, *,
                         lazy: bool) -> Response:
    """The results page; ``lazy`` leaves the projections for the page script to fetch after the board."""
    from mbcpath.web.results_view import projection_view, results_context

    projection = None if lazy else await run_in_threadpool(projection_view, rec, kb, patient)
    ctx = results_context(patient, rec, kb, projection=projection)
    return templates.TemplateResponse(request, "results.html", ctx)


def _link_error(request: Request, templates: Any, detail: str, status: int = 400) -> Response:
    return templates.TemplateResponse(request, "results_shell.html", {"section": "patient", "error": detail},
                                      status_code=status)


@router.get("/results", response_class=HTMLResponse)
async def results_shell(request: Request, templates: TemplatesDep) -> Response:
    """The page a results link opens: its script reads ``#p=...`` and posts it to ``POST /results``."""
    return templates.TemplateResponse(request, "results_shell.html", {"section": "patient", "error": None})


@router.post("/results", response_class=HTMLResponse)
async def results_render(request: Request, kb: KbDep, templates: TemplatesDep) -> Response:
    """Render the results of a posted patient (link token ``p`` or ``patient_json``)."""
    from mbcpath.web.results_view import evaluate_off_loop

    try:
        data = await posted_patient(request)
    except (MalformedJson, TokenError) as err:
        return _link_error(request, templates, str(err))
    try:
        patient, rec = await evaluate_off_loop(request, data, kb)
    except InputError as err:
        from mbcpath.web import forms
        from mbcpath.web.routers.patient_ui import render_form

        state = forms.state_from_contract(data) if isinstance(data, dict) else forms.FormState()
        _, row_map, ovr_map = forms.contract_from_state(state)
        forms.place_issues(state, forms.every_issue(data, err.issues), row_map, ovr_map)
        return render_form(request, templates, state, status_code=422)
    form = await request.form()
    return await render_results(request, templates, kb, patient, rec, lazy=form.get("lazy") == "1")


@router.post("/results.json")
async def results_json(request: Request, kb: KbDep) -> Response:
    """The recommendation of a posted patient as the contract's JSON, as a download (the page's JSON button)."""
    from mbcpath.web.results_view import evaluate_off_loop

    try:
        _patient, rec = await evaluate_off_loop(request, await posted_patient(request), kb)
    except (MalformedJson, TokenError, InputError) as err:
        return HTMLResponse(f"<p>Not evaluated: {_escape(str(err))}</p>", status_code=400)
    name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in rec.patient_id)[:60] or "patient"
    return Response(rec.to_json(), media_type="application/json",
                    headers={"content-disposition": f'attachment; filename="mbcpath-{name}.json"'})


@router.post("/results/projections", response_class=HTMLResponse)
async def results_projections(request: Request, kb: KbDep, templates: TemplatesDep) -> Response:
    """The projections section alone (an HTML fragment: SVG charts and their table)."""
    from mbcpath.web.results_view import evaluate_off_loop, projection_view

    try:
        patient, rec = await evaluate_off_loop(request, await posted_patient(request), kb)
    except (MalformedJson, TokenError, InputError) as err:
        return HTMLResponse(f'<p class="muted">Projections unavailable: {_escape(str(err))}</p>', status_code=400)
    projection = await run_in_threadpool(projection_view, rec, kb, patient)
    return templates.TemplateResponse(request, "_projections.html", {"projection": projection, "rec": rec})


def _escape(text: str) -> str:
    from html import escape

    return escape(text[:300])
