"""The clinician's patient form and results page (server-rendered, works without JavaScript).

Nothing is stored: the results page carries the patient back in a hidden field
so that "Edit patient" can re-open the form.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from mbcpath.errors import InputError, MbcpathError
from mbcpath.kb import KnowledgeBase
from mbcpath.web import forms
from mbcpath.web.deps import FeatureUnavailable, SettingsDep, TemplatesDep, load_projector
from mbcpath.web.examples import find_example, load_examples
from mbcpath.web.services import MalformedJson, parse_json_bytes, recommend_for, unwrap_patient

log = logging.getLogger("mbcpath.web")
router = APIRouter()

CHOICES = {name: getattr(forms, name) for name in (
    "SEX", "MENOPAUSAL", "IHC", "ISH", "PRESENTATION", "SITES", "BRAIN", "ILD", "TRI", "ECOG", "NEUROPATHY",
    "DECISION", "SETTING", "PHASE", "STOP")}
FIELD_LABELS = {
    "id": "Case identifier", "age_years": "Age", "sex": "Sex", "menopausal_status": "Menopausal status",
    "ecog": "ECOG", "pregnant": "Pregnant", "her2_ihc": "HER2 IHC", "her2_ish": "HER2 ISH", "er_percent": "ER",
    "pr_percent": "PR", "presentation": "Presentation", "metastatic_diagnosis_months_ago": "Metastatic diagnosis",
    "visceral_crisis": "Visceral crisis", "brain_metastases": "Brain metastases",
    "extracranial_progression": "Extracranial progression", "metastatic_sites": "Metastatic sites",
    "lvef_percent": "LVEF", "heart_failure": "Heart failure", "ild_history": "ILD / pneumonitis", "qtcf_ms": "QTcF",
    "neuropathy_grade": "Neuropathy", "avoid_chemotherapy": "Declines chemotherapy",
    "decision_point": "Decision point", "unavailable_drugs": "Drugs not available",
    "available_drugs": "Restricted drugs available",
}
_ROW_LABELS = {"drugs": "drugs", "setting": "setting", "line": "line", "phase": "phase",
               "started_months_ago": "started", "ended_months_ago": "ended", "stop_reason": "stop reason",
               "gate": "gate", "reason": "reason"}


def _field_labels(state: forms.FormState) -> dict[str, str]:
    labels = dict(FIELD_LABELS)
    for key in state.errors:
        if key.startswith(("t-", "o-")):
            kind, idx, name = key.split("-", 2)
            what = "Treatment" if kind == "t" else "Override"
            labels[key] = f"{what} {int(idx) + 1}, {_ROW_LABELS.get(name, name)}"
    return labels


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
           "field_labels": _field_labels(state), "gate_choices": gates, "section": "patient"}
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
    """Evaluate the posted form; on invalid input, show the form again with messages next to the fields."""
    form = await request.form()
    state = forms.state_from_form(form)
    action = form.get("action")
    if isinstance(action, str) and _apply_row_action(state, action):
        return render_form(request, templates, state)
    data, row_map, ovr_map = forms.contract_from_state(state)
    return await _evaluate(request, templates, data, state=state, row_map=row_map, ovr_map=ovr_map)


async def _posted_patient_json(request: Request) -> Any:
    """The ``patient_json`` form field, parsed (raises :class:`MalformedJson`) and unwrapped."""
    raw = (await request.form()).get("patient_json")
    return unwrap_patient(parse_json_bytes(raw.encode() if isinstance(raw, str) else b""))


@router.post("/patient/json", response_class=HTMLResponse)
async def patient_json(request: Request, templates: TemplatesDep) -> Response:
    """Evaluate a pasted contract JSON (the same validation as the API)."""
    try:
        data = await _posted_patient_json(request)
    except MalformedJson as err:
        state = forms.FormState(general_errors=[f"Patient JSON: {err.detail}"])
        return render_form(request, templates, state, status_code=400)
    state = forms.state_from_contract(data) if isinstance(data, dict) else forms.FormState()
    _, row_map, ovr_map = forms.contract_from_state(state)
    return await _evaluate(request, templates, data, state=state, row_map=row_map, ovr_map=ovr_map)


@router.post("/patient/edit", response_class=HTMLResponse)
async def patient_edit(request: Request, templates: TemplatesDep) -> Response:
    """Re-open the form with the patient carried by the results page."""
    try:
        data = await _posted_patient_json(request)
    except MalformedJson as err:
        return render_form(request, templates, forms.FormState(general_errors=[err.detail]), status_code=400)
    state = forms.state_from_contract(data) if isinstance(data, dict) else forms.FormState()
    return render_form(request, templates, state)


async def _evaluate(request: Request, templates: Any, data: Any, *, state: forms.FormState, row_map: list[int],
                    ovr_map: list[int]) -> Response:
    from mbcpath.kb import load_kb
    from mbcpath.web.deps import load_engine

    kb = load_kb(request.app.state.settings.kb_path)
    engine = load_engine()
    try:
        patient, rec = recommend_for(data, kb, engine)
    except InputError as err:
        forms.place_issues(state, err.issues, row_map, ovr_map)
        return render_form(request, templates, state, status_code=422)
    return render_results(request, templates, kb, patient, rec)


def projection_view(rec: Any, kb: KnowledgeBase, patient: Any = None) -> dict[str, Any]:
    """Projections for the results page: server-side SVG charts (one per basis), the table rows, or why not.

    The chart data model is :mod:`mbcpath.survival.chart` (solid/dashed segments, bands, markers); the SVG is
    its small renderer, so the page needs no chart script.
    """
    try:
        project = load_projector()
    except FeatureUnavailable as err:
        return {"note": err.detail}
    try:
        proj = project(rec, kb, patient=patient)
        from mbcpath.survival.chart import charts, render_svg

        figures = [{"endpoint": c.endpoint, "svg": render_svg(c), "chart": c} for c in charts(proj)]
    except MbcpathError as err:
        return {"note": f"Projections could not be computed: {err}"}
    except ImportError as err:
        return {"note": f"Projection charts are not available ({err})."}
    except Exception as err:  # a failing chart must not hide the recommendation itself
        log.error("projection failed: %s", type(err).__name__)
        return {"note": "Projections could not be computed for these options (see the server log)."}
    if not figures:
        return {"note": "No option has trial data to project.", "projections": proj}
    return {"figures": figures, "projections": proj, "sequences": _sequences(kb, patient)}


def _sequences(kb: KnowledgeBase, patient: Any) -> Any:
    """Expected time on effective therapy across plausible sequences (None if it cannot be computed)."""
    if patient is None:
        return None
    try:
        from mbcpath.survival.sequences import sequence_report

        return sequence_report(patient, kb)
    except (MbcpathError, ImportError) as err:
        log.warning("sequences not computed: %s", type(err).__name__)
        return None


def render_results(request: Request, templates: Any, kb: KnowledgeBase, patient: Any, rec: Any) -> Response:
    projection = projection_view(rec, kb, patient) if rec.options else {}
    patient_json = patient.model_dump_json(exclude_defaults=True)
    ctx = {"rec": rec, "patient": patient, "patient_json": patient_json, "section": "patient",
           "rec_json": rec.model_dump(mode="json", by_alias=True), "projection": projection,
           "safety_gate_ids": {g.id for g in kb.safety.gates}}
    return templates.TemplateResponse(request, "results.html", ctx)

