"""The clinician's patient form (server-rendered, works without JavaScript).

Nothing is stored. A valid form answers with a redirect to ``/results#p=<token>``
(POST-redirect-GET): the patient travels in the URL fragment, which the browser keeps
and never sends, so results can be bookmarked, shared and reached again with Back
without "Confirm Form Resubmission". Without JavaScript (the form's ``prg`` field stays
empty) the results are rendered in the POST response instead.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from mbcpath.errors import InputError, MbcpathError
from mbcpath.web import forms
from mbcpath.web.deps import SettingsDep, TemplatesDep
from mbcpath.web.examples import find_example, load_examples
from mbcpath.web.routers import report_ui, results_ui
from mbcpath.web.routers.results_ui import posted_patient, render_results
from mbcpath.web.services import MalformedJson
from mbcpath.web.share import TokenError, encode_patient

router = APIRouter()
router.include_router(results_ui.router)
router.include_router(report_ui.router)

CHOICES = {name: getattr(forms, name) for name in (
    "SEX", "MENOPAUSAL", "IHC", "ISH", "PRESENTATION", "SITES", "BRAIN", "ILD", "TRI", "ECOG", "NEUROPATHY",
    "DECISION", "SETTING", "PHASE", "STOP", "TRIMESTER", "CHILD_PUGH", "INTERACTING", "RESPONSE")}


def _gate_choices(request: Request) -> list[tuple[str, str]]:
    from mbcpath.kb import load_kb

    try:
        kb = load_kb(request.app.state.settings.kb_path)
    except MbcpathError:
        return [("", "Knowledge base unavailable")]
    return [("", "Choose a gate")] + [(g.id, g.title) for g in kb.safety.gates if g.overridable]


def render_form(request: Request, templates: Any, state: forms.FormState, *, selected: str | None = None,
                status_code: int = 200) -> Response:
    settings = request.app.state.settings
    gates = _gate_choices(request)
    known_gates = {g for g, _ in gates}
    for o in state.overrides:  # keep an override for a gate id the KB does not list, so the error can show
        if o.get("gate") and o["gate"] not in known_gates:
            gates.append((o["gate"], o["gate"]))
    ctx = {"state": state, "choices": CHOICES, "examples": load_examples(settings.examples_dir),
           "examples_dir": settings.examples_dir, "selected": selected, "known_drugs": forms.KNOWN_DRUGS_SORTED,
           "field_labels": forms.field_labels(state), "gate_choices": gates, "section": "patient"}
    return templates.TemplateResponse(request, "patient_form.html", ctx, status_code=status_code)


@router.get("/patient", response_class=HTMLResponse)
async def patient_form(request: Request, settings: SettingsDep, templates: TemplatesDep,
                       example: Annotated[str | None, Query(max_length=128)] = None) -> Response:
    """The blank form, or the form filled with a shipped example (``?example=<id>``)."""
    state = forms.FormState()
    if example:
        ex = find_example(settings.examples_dir, example)
        if ex is None:
            raise HTTPException(404, f"no example patient {example[:80]!r}")
        state = forms.state_from_contract(ex.patient)
    return render_form(request, templates, state, selected=example)


def _apply_row_action(state: forms.FormState, action: str) -> bool:
    """Add/remove rows without JavaScript. True when the action was a row edit."""
    if action == "add_row":
        state.rows.append({"setting": "metastatic"})
        return True
    if action == "add_override":
        state.overrides.append({})
        return True
    for prefix, rows in (("remove_row:", state.rows), ("remove_override:", state.overrides)):
        if action.startswith(prefix):
            try:
                idx = int(action.removeprefix(prefix))
            except ValueError:
                return True
            if 0 <= idx < len(rows):
                rows.pop(idx)
            return True
    return False


@router.post("/patient", response_class=HTMLResponse)
async def patient_submit(request: Request, templates: TemplatesDep) -> Response:
    """Evaluate the posted form; invalid input shows the form again with every message next to its field."""
    form = await request.form()
    state = forms.state_from_form(form)
    action = form.get("action")
    if isinstance(action, str) and _apply_row_action(state, action):
        return render_form(request, templates, state)
    data, row_map, ovr_map = forms.contract_from_state(state)
    return await _evaluate(request, templates, data, state=state, row_map=row_map, ovr_map=ovr_map,
                           redirect=form.get("prg") == "1")


@router.post("/patient/json", response_class=HTMLResponse)
async def patient_json(request: Request, templates: TemplatesDep) -> Response:
    """Evaluate a pasted contract JSON (the same validation as the API)."""
    form = await request.form()
    try:
        data = await posted_patient(request)
    except (MalformedJson, TokenError) as err:
        state = forms.FormState(general_errors=[f"Patient JSON: {err}"])
        return render_form(request, templates, state, status_code=400)
    state = forms.state_from_contract(data) if isinstance(data, dict) else forms.FormState()
    _, row_map, ovr_map = forms.contract_from_state(state)
    return await _evaluate(request, templates, data, state=state, row_map=row_map, ovr_map=ovr_map,
                           redirect=form.get("prg") == "1")


@router.post("/patient/edit", response_class=HTMLResponse)
async def patient_edit(request: Request, templates: TemplatesDep) -> Response:
    """Re-open the form with the patient carried by the results page (``patient_json`` or a link token ``p``)."""
    try:
        data = await posted_patient(request)
    except (MalformedJson, TokenError) as err:
        return render_form(request, templates, forms.FormState(general_errors=[str(err)]), status_code=400)
    state = forms.state_from_contract(data) if isinstance(data, dict) else forms.FormState()
    return render_form(request, templates, state)


async def _evaluate(request: Request, templates: Any, data: Any, *, state: forms.FormState, row_map: list[int],
                    ovr_map: list[int], redirect: bool) -> Response:
    from mbcpath.kb import load_kb
    from mbcpath.web.results_view import evaluate_off_loop

    kb = load_kb(request.app.state.settings.kb_path)
    try:
        patient, rec = await evaluate_off_loop(request, data, kb)
    except InputError as err:
        forms.place_issues(state, forms.every_issue(data, err.issues), row_map, ovr_map)
        return render_form(request, templates, state, status_code=422)
    if redirect:  # POST-redirect-GET: the patient goes into the URL fragment, never into the server's logs
        token = encode_patient(patient.model_dump_json(exclude_defaults=True))
        return RedirectResponse(f"/results#p={token}", status_code=303)
    return await render_results(request, templates, kb, patient, rec, lazy=False)
