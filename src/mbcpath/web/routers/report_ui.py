"""The tumour-board report from the results page: ``POST /report`` (HTML) and ``POST /report.pdf``.

The patient comes with the request (``patient_json`` or a link token ``p``) and is not
kept. The PDF is rendered by chromium in a worker thread, one report at a time, so the
server keeps answering while it renders.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from mbcpath.errors import InputError, MbcpathError
from mbcpath.kb import KnowledgeBase
from mbcpath.report.document import TEMPLATES
from mbcpath.web.deps import KbDep
from mbcpath.web.services import MalformedJson
from mbcpath.web.share import TokenError

router = APIRouter()
_PDF_LOCK = threading.Lock()  # one chromium at a time per process


def _pdf_one_at_a_time(html: str) -> bytes:
    from mbcpath.report.pdf import html_to_pdf

    with _PDF_LOCK:
        return html_to_pdf(html)


def _report_html(data: Any, kb: KnowledgeBase, *, summary: bool, stylesheet: str | None) -> tuple[str, str]:
    """(patient id, report HTML) of a posted patient, projections included (runs in a worker thread)."""
    from mbcpath.report.document import render_report_html
    from mbcpath.web.results_view import evaluate

    patient, rec = evaluate(data, kb)
    projections = None
    if rec.options:
        from mbcpath.web.results_view import projection_view

        projections = projection_view(rec, kb, patient).get("projections")
    html = render_report_html(rec, patient=patient, kb=kb, projections=projections, patient_summary=summary,
                              generated=dt.date.today().isoformat(), stylesheet=stylesheet)
    return rec.patient_id, html


async def _posted(request: Request) -> tuple[Any, bool]:
    from mbcpath.web.routers.results_ui import posted_patient

    form = await request.form()
    return await posted_patient(request), form.get("patient_summary") == "1"


def _bad(err: Exception | str, status: int) -> Response:
    from html import escape

    return HTMLResponse(f"<!doctype html><html lang='en'><title>Report not made</title><main><h1>Report not made</h1>"
                        f"<p>{escape(str(err)[:400])}</p></main></html>", status_code=status)


@router.post("/report", response_class=HTMLResponse)
async def report_html(request: Request, kb: KbDep) -> Response:
    """The report as an HTML page (what the PDF shows), styled by ``/report.css``."""
    try:
        data, summary = await _posted(request)
        _, html = await run_in_threadpool(_report_html, data, kb, summary=summary, stylesheet="/report.css")
    except (MalformedJson, TokenError, InputError) as err:
        return _bad(err, 400 if isinstance(err, (MalformedJson, TokenError)) else 422)
    return HTMLResponse(html)


@router.post("/report.pdf")
async def report_pdf(request: Request, kb: KbDep) -> Response:
    """The report as an A4 PDF download."""
    try:
        data, summary = await _posted(request)
        patient_id, html = await run_in_threadpool(_report_html, data, kb, summary=summary, stylesheet=None)
    except (MalformedJson, TokenError, InputError) as err:
        return _bad(err, 400 if isinstance(err, (MalformedJson, TokenError)) else 422)
    try:
        pdf = await run_in_threadpool(_pdf_one_at_a_time, html)
    except MbcpathError as err:  # no browser engine here (ReportError) or no playwright (MissingExtraError)
        return _bad(f"{err} The HTML report (POST /report) needs neither.", 503)
    name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in patient_id)[:60] or "patient"
    return Response(pdf, media_type="application/pdf",
                    headers={"content-disposition": f'attachment; filename="mbcpath-report-{name}.pdf"'})


@router.get("/report.css", include_in_schema=False)
async def report_css() -> Response:
    """The report's stylesheet (inlined in the PDF; linked from the HTML page, so no inline style is needed)."""
    return Response((TEMPLATES / "report.css").read_text(encoding="utf-8"), media_type="text/css",
                    headers={"cache-control": "public, max-age=3600"})
