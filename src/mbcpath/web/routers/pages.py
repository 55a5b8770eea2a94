"""Home page and the guided walkthrough of the clinical summary's representative case."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from mbcpath.errors import InputError
from mbcpath.web.deps import EngineDep, KbDep, SettingsDep, TemplatesDep
from mbcpath.web.examples import WALKTHROUGH, walkthrough_example
from mbcpath.web.services import recommend_for

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, templates: TemplatesDep) -> Response:
    return templates.TemplateResponse(request, "home.html", {"section": "home"})


@router.get("/walkthrough", response_class=HTMLResponse)
async def walkthrough_index(request: Request, settings: SettingsDep, templates: TemplatesDep) -> Response:
    """The three decision points of the case, in order."""
    steps = [(s, walkthrough_example(settings.examples_dir, s)) for s in WALKTHROUGH]
    return templates.TemplateResponse(request, "walkthrough.html", {"steps": steps, "section": "walkthrough"})


@router.get("/walkthrough/{number}", response_class=HTMLResponse)
async def walkthrough_step(request: Request, number: int, settings: SettingsDep, templates: TemplatesDep,
                           kb: KbDep, engine: EngineDep) -> Response:
    """One decision point of the case, evaluated live by the engine."""
    if not 1 <= number <= len(WALKTHROUGH):
        raise HTTPException(404, f"the walkthrough has steps 1 to {len(WALKTHROUGH)}")
    step = WALKTHROUGH[number - 1]
    ex = walkthrough_example(settings.examples_dir, step)
    ctx: dict[str, Any] = {"step": step, "steps": WALKTHROUGH, "example": ex, "rec": None, "error": None,
                           "section": "walkthrough", "patient": None, "patient_json": None}
    if ex is not None:
        try:
            patient, rec = await request.app.state.offload.run_thread(recommend_for, ex.patient, kb, engine)
        except InputError as err:
            ctx["error"] = err.one_line()
        else:
            ctx.update(rec=rec, patient=patient, patient_json=patient.model_dump_json(exclude_defaults=True))
    return templates.TemplateResponse(request, "walkthrough_step.html", ctx)
