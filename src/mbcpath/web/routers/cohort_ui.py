"""The cohort page: upload a cohort file (or choose a built-in synthetic sample), run it, see the result.

``GET /cohort`` shows the form; ``POST /cohort`` (multipart) reads the upload into a temporary folder that is
deleted before the answer leaves, answers every record with the per-patient engine, and shows the
decision-point mix, the rank-1 options per decision point, the concordance audit (what was given, judged as of
each record's decision date, :mod:`mbcpath.analytics.audit`) and the real-world survival charts. Nothing is
stored beyond the request. The upload is bounded by the app's body limit (``max_body_bytes``: larger files get
413) and the records read by ``cohort_max_records``; the work runs off the event loop within the request's
time budget.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mbcpath.errors import MbcpathError
from mbcpath.web.deps import KbDep, SettingsDep, TemplatesDep

router = APIRouter()

SAMPLES = (200, 500, 1000)
GROUPINGS = ("regimen", "line", "decision_point")
SUFFIXES = {".jsonl", ".ndjson", ".json", ".parquet"}
MAX_GROUPS = 5  # curves per chart on the page (the tables list every group)


def _sample_items(n: int, seed: int) -> list[Any]:
    from mbcpath.analytics.records import check_line
    from mbcpath.analytics.synth import synth_records

    return [check_line(i + 1, obj) for i, obj in enumerate(synth_records(n, seed))]


def _upload_view(data: bytes, name: str, kb: Any, by: str, cap: int, audited: int) -> Any:
    from mbcpath.analytics.cohort_view import cohort_view
    from mbcpath.analytics.records import read_records

    suffix = Path(name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="mbcpath-cohort-") as tmp:
        path = Path(tmp) / f"upload{suffix if suffix in SUFFIXES else '.jsonl'}"
        path.write_bytes(data)
        return cohort_view(read_records(path), kb, by=by, max_records=cap, audit_records=audited)


def _sample_view(n: int, seed: int, kb: Any, by: str, cap: int, audited: int) -> Any:
    from mbcpath.analytics.cohort_view import cohort_view

    return cohort_view(_sample_items(n, seed), kb, by=by, max_records=cap, audit_records=audited)


def _charts(view: Any) -> list[dict[str, Any]]:
    from mbcpath.analytics.rw_chart import at_risk_table_html, survival_svg

    if view is None or view.survival is None:
        return []
    return [{"id": c.id, "svg": svg, "table": at_risk_table_html(view.survival, c.endpoint),
             "notes": c.footnotes} for c, svg in survival_svg(view.survival, max_groups=MAX_GROUPS, trial_bands=False)]


def _int(value: Any, default: int, allowed: tuple[int, ...] | None = None) -> int:
    try:
        v = int(str(value))
    except (TypeError, ValueError):
        return default
    return v if allowed is None or v in allowed else default


def _page(request: Request, templates: Any, ctx: dict[str, Any], status: int = 200) -> Response:
    base: dict[str, Any] = {"section": "cohort", "samples": SAMPLES, "groupings": GROUPINGS, "view": None, "charts": [],
            "error": None, "by": "regimen", "sample": SAMPLES[0], "seed": 1, "source": ""}
    return templates.TemplateResponse(request, "cohort.html", {**base, **ctx}, status_code=status)


@router.get("/cohort", response_class=HTMLResponse)
async def cohort_form(request: Request, templates: TemplatesDep, settings: SettingsDep) -> Response:
    """The form: a cohort file to upload, or a built-in synthetic sample."""
    return _page(request, templates, {"cap": settings.cohort_max_records, "limit": settings.max_body_bytes})


async def _read_form(request: Request) -> tuple[dict[str, str], tuple[str, bytes] | None]:
    """The form's text fields, and the uploaded file's name and bytes (None: no file chosen); the upload's
    spooled temporary file is closed before returning."""
    async with request.form() as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        if upload is None or isinstance(upload, str) or not upload.filename:
            return fields, None
        return fields, (upload.filename, await upload.read())


@router.post("/cohort", response_class=HTMLResponse)
async def cohort_run(request: Request, templates: TemplatesDep, settings: SettingsDep, kb: KbDep) -> Response:
    """Run the uploaded file (or the chosen sample) and show the decision-point mix, rank-1 options and survival."""
    fields, upload = await _read_form(request)
    by = fields.get("by") or "regimen"
    by = by if by in GROUPINGS else "regimen"
    sample, seed = _int(fields.get("sample"), SAMPLES[0], SAMPLES), _int(fields.get("seed"), 1)
    ctx: dict[str, Any] = {"by": by, "sample": sample, "seed": seed, "cap": settings.cohort_max_records,
                           "limit": settings.max_body_bytes}
    offload = request.app.state.offload
    try:
        if upload is not None:
            name, data = upload
            if not data.strip():
                return _page(request, templates, {**ctx, "error": f"file = {name!r}: the file is empty"}, 400)
            ctx["source"] = f"uploaded file {name} ({len(data):,} bytes)"
            view = await offload.run_thread(_upload_view, data, name, kb, by, settings.cohort_max_records,
                                            settings.cohort_audit_records)
        else:
            ctx["source"] = f"synthetic sample: {sample} patients, seed {seed}"
            view = await offload.run_thread(_sample_view, sample, seed, kb, by, settings.cohort_max_records,
                                            settings.cohort_audit_records)
    except MbcpathError as err:
        return _page(request, templates, {**ctx, "error": str(err)}, 400)
    return _page(request, templates, {**ctx, "view": view, "charts": _charts(view)})
