"""The patient form: HTML form fields <-> the exchange contract's JSON, and error placement.

The form posts flat fields (``age_years``, ``her2_ihc``, ``t-0-drugs`` ...). They
become a contract dict that goes through the same validation as the API, so
the form can never accept what the API would reject. Validation issues come
back keyed by form field so each message sits next to its input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mbcpath.domain.drugs import DRUG_CLASSES
from mbcpath.errors import Issue

#: (value, label) choices for the selects. "" means unknown / not stated (null).
SEX = [("female", "Female"), ("male", "Male")]
MENOPAUSAL = [("postmenopausal", "Postmenopausal"), ("premenopausal", "Premenopausal"),
              ("perimenopausal", "Perimenopausal"), ("not_applicable", "Not applicable (men)"),
              ("unknown", "Unknown")]
IHC = [("", "Not done / unknown"), ("3+", "3+"), ("2+", "2+ (equivocal: needs ISH)"), ("1+", "1+"), ("0", "0")]
ISH = [("", "Not done / unknown"), ("amplified", "Amplified"), ("not_amplified", "Not amplified"),
       ("equivocal", "Equivocal")]
PRESENTATION = [("", "Unknown"), ("de_novo", "De novo stage IV"), ("recurrent", "Recurrent after early disease")]
SITES = [("bone", "Bone"), ("lymph_node", "Lymph node"), ("liver", "Liver"), ("lung", "Lung"), ("pleura", "Pleura"),
         ("skin_soft_tissue", "Skin / soft tissue"), ("brain", "Brain"), ("leptomeningeal", "Leptomeningeal"),
         ("other", "Other")]
BRAIN = [("", "Unknown / not imaged"), ("none", "None"), ("stable_treated", "Stable, treated"),
         ("active", "Active (untreated or progressing)"), ("symptomatic", "Symptomatic")]
ILD = [("", "Unknown"), ("none", "None"), ("grade1", "Grade 1 (asymptomatic)"),
       ("grade2_or_higher", "Grade 2 or higher / needed steroids"), ("active", "Active now")]
TRI = [("", "Unknown"), ("false", "No"), ("true", "Yes")]
ECOG = [("", "Unknown")] + [(str(i), str(i)) for i in range(5)]
NEUROPATHY = [("", "Unknown")] + [(str(i), f"Grade {i}") for i in range(5)]
DECISION = [("", "Derive from the treatment history"), ("first_line", "First line"),
            ("maintenance", "Maintenance after induction"), ("next_line", "Next line (after progression)"),
            ("cns_event", "CNS event (isolated CNS progression)")]
SETTING = [("metastatic", "Metastatic"), ("adjuvant", "Adjuvant"), ("neoadjuvant", "Neoadjuvant")]
PHASE = [("", "—"), ("induction", "Induction"), ("maintenance", "Maintenance")]
STOP = [("", "None (ongoing)"), ("completed", "Completed"), ("progression", "Progression"),
        ("toxicity", "Toxicity"), ("patient_choice", "Patient choice")]

KNOWN_DRUGS_SORTED = sorted(DRUG_CLASSES)

SCALAR_INT = ("age_years", "ecog", "neuropathy_grade")
SCALAR_NUM = ("er_percent", "pr_percent", "metastatic_diagnosis_months_ago", "lvef_percent", "qtcf_ms")
SCALAR_ENUM = ("sex", "menopausal_status", "presentation", "brain_metastases", "ild_history", "decision_point")
SCALAR_BOOL = ("visceral_crisis", "extracranial_progression", "heart_failure", "pregnant")
ROW_FIELDS = ("drugs", "setting", "line", "phase", "started_months_ago", "ended_months_ago", "stop_reason")
_ROW_KEY = re.compile(r"^t-(\d{1,3})-(\w+)$")
_OVR_KEY = re.compile(r"^o-(\d{1,3})-(\w+)$")
MAX_ROWS = 40


def blank_values() -> dict[str, Any]:
    """The empty form: only non-clinical defaults (unknowns stay unknown, so they show as missing data)."""
    return {"id": "", "sex": "female", "menopausal_status": "unknown", "metastatic_diagnosis_months_ago": "0",
            "metastatic_sites": [], "decision_point": ""}


@dataclass
class FormState:
    """What the form template renders: flat values, treatment rows, override rows and errors by key."""

    values: dict[str, Any] = field(default_factory=blank_values)
    rows: list[dict[str, str]] = field(default_factory=list)
    overrides: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    general_errors: list[str] = field(default_factory=list)


def _num(raw: str, *, integer: bool) -> Any:
    text = raw.strip().replace(",", ".")
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return raw.strip()  # let validation name the field and say "not a number"
    if integer and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _bool(raw: str) -> Any:
    return {"true": True, "false": False}.get(raw.strip().lower())


def _drug_list(raw: str) -> list[str]:
    return [d.strip().lower() for d in re.split(r"[,;\n]+", raw) if d.strip()]


def _row_indices(form: Mapping[str, Any], pattern: re.Pattern[str]) -> list[int]:
    return sorted({int(m.group(1)) for k in form if (m := pattern.match(k))})[:MAX_ROWS]


def _get(form: Any, key: str) -> str:
    v = form.get(key)
    return v if isinstance(v, str) else ""


def state_from_form(form: Any) -> FormState:
    """Read posted form fields (a Starlette ``FormData`` or a dict) into a :class:`FormState`."""
    values: dict[str, Any] = {}
    for k in ("id", *SCALAR_INT, *SCALAR_NUM, *SCALAR_ENUM, *SCALAR_BOOL, "her2_ihc", "her2_ish",
              "avoid_chemotherapy", "unavailable_drugs", "available_drugs"):
        values[k] = _get(form, k)
    getlist = getattr(form, "getlist", None)
    sites = getlist("metastatic_sites") if getlist else form.get("metastatic_sites", [])
    values["metastatic_sites"] = [s for s in (sites if isinstance(sites, list) else [sites]) if isinstance(s, str)]
    rows = [{f: _get(form, f"t-{i}-{f}") for f in ROW_FIELDS} for i in _row_indices(form, _ROW_KEY)]
    overrides = [{f: _get(form, f"o-{i}-{f}") for f in ("gate", "reason")} for i in _row_indices(form, _OVR_KEY)]
    return FormState(values=values, rows=rows, overrides=overrides)


def _row_empty(row: Mapping[str, str]) -> bool:
    return not any(row.get(f, "").strip() for f in ("drugs", "line", "started_months_ago", "ended_months_ago"))


def contract_from_state(state: FormState) -> tuple[dict[str, Any], list[int], list[int]]:
    """The contract dict of a form, with the form row index of each treatment / override kept."""
    v = state.values
    data: dict[str, Any] = {}
    if v.get("id", "").strip():
        data["id"] = v["id"].strip()
    for k in SCALAR_INT:
        data[k] = _num(v.get(k, ""), integer=True)
    for k in SCALAR_NUM:
        data[k] = _num(v.get(k, ""), integer=False)
    for k in SCALAR_ENUM:
        data[k] = v.get(k) or None
    for k in SCALAR_BOOL:
        data[k] = _bool(v.get(k, ""))
    if data.get("menopausal_status") is None:
        data["menopausal_status"] = "unknown"
    if data.get("age_years") is None:
        data.pop("age_years")  # required: validation says "required field is missing"
    if data.get("sex") is None:
        data.pop("sex")
    if data.get("decision_point") is None:
        data.pop("decision_point")
    data["her2"] = {"ihc": v.get("her2_ihc") or None, "ish": v.get("her2_ish") or None}
    data["metastatic_sites"] = list(v.get("metastatic_sites") or [])
    avoid = _bool(v.get("avoid_chemotherapy", ""))
    data["preferences"] = {"avoid_chemotherapy": avoid} if avoid is not None else {}
    data["unavailable_drugs"] = _drug_list(v.get("unavailable_drugs", ""))
    data["available_drugs"] = _drug_list(v.get("available_drugs", ""))
    treatments, row_map = [], []
    for i, row in enumerate(state.rows):
        if _row_empty(row):
            continue
        t: dict[str, Any] = {
            "drugs": _drug_list(row.get("drugs", "")),
            "setting": row.get("setting") or "metastatic",
            "started_months_ago": _num(row.get("started_months_ago", ""), integer=False),
            "ended_months_ago": _num(row.get("ended_months_ago", ""), integer=False),
            "stop_reason": row.get("stop_reason") or None,
        }
        if t["started_months_ago"] is None:
            t.pop("started_months_ago")
        line = _num(row.get("line", ""), integer=True)
        if line is not None:
            t["line"] = line
        if row.get("phase"):
            t["phase"] = row["phase"]
        treatments.append(t)
        row_map.append(i)
    data["treatments"] = treatments
    overrides, ovr_map = [], []
    for i, o in enumerate(state.overrides):
        if o.get("gate", "").strip() or o.get("reason", "").strip():
            overrides.append({"gate": o.get("gate", "").strip(), "reason": o.get("reason", "").strip()})
            ovr_map.append(i)
    if overrides:
        data["gate_overrides"] = overrides
    return data, row_map, ovr_map


def _fmt(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def state_from_contract(data: Mapping[str, Any]) -> FormState:
    """Prefill the form from a contract patient (an example, or the patient being edited)."""
    v: dict[str, Any] = blank_values()
    v["id"] = _fmt(data.get("id"))
    for k in (*SCALAR_INT, *SCALAR_NUM, *SCALAR_ENUM, *SCALAR_BOOL):
        if k in data:
            v[k] = _fmt(data.get(k))
    her2 = data.get("her2") or {}
    if isinstance(her2, Mapping):
        v["her2_ihc"] = _fmt(her2.get("ihc"))
        v["her2_ish"] = _fmt(her2.get("ish"))
    sites = data.get("metastatic_sites") or []
    v["metastatic_sites"] = [str(s) for s in sites] if isinstance(sites, list) else []
    prefs = data.get("preferences") or {}
    if isinstance(prefs, Mapping):
        v["avoid_chemotherapy"] = _fmt(prefs.get("avoid_chemotherapy"))
    for k in ("unavailable_drugs", "available_drugs"):
        names = data.get(k) or []
        v[k] = ", ".join(str(n) for n in names) if isinstance(names, list) else ""
    rows = []
    for t in data.get("treatments") or []:
        if not isinstance(t, Mapping):
            continue
        drugs = t.get("drugs") or []
        rows.append({
            "drugs": ", ".join(str(d) for d in drugs) if isinstance(drugs, list) else "",
            "setting": _fmt(t.get("setting")) or "metastatic", "line": _fmt(t.get("line")),
            "phase": _fmt(t.get("phase")), "started_months_ago": _fmt(t.get("started_months_ago")),
            "ended_months_ago": _fmt(t.get("ended_months_ago")), "stop_reason": _fmt(t.get("stop_reason")),
        })
    overrides = [{"gate": _fmt(o.get("gate")), "reason": _fmt(o.get("reason"))}
                 for o in data.get("gate_overrides") or [] if isinstance(o, Mapping)]
    return FormState(values=v, rows=rows, overrides=overrides)


_PATH_TO_KEY = {"her2": "her2_ihc", "her2.ihc": "her2_ihc", "her2.ish": "her2_ish", "her2.status": "her2_ihc",
                "preferences": "avoid_chemotherapy", "preferences.avoid_chemotherapy": "avoid_chemotherapy"}
_TREAT = re.compile(r"^treatments\[(\d+)\](?:\.(\w+))?")
_OVR = re.compile(r"^gate_overrides\[(\d+)\](?:\.(\w+))?")


def form_key(path: str, row_map: list[int], ovr_map: list[int]) -> str | None:
    """The form field a contract path belongs to (``treatments[1].drugs[0]`` -> ``t-3-drugs``)."""
    if m := _TREAT.match(path):
        pos = int(m.group(1))
        row = row_map[pos] if pos < len(row_map) else pos
        return f"t-{row}-{m.group(2) or 'drugs'}"
    if m := _OVR.match(path):
        pos = int(m.group(1))
        row = ovr_map[pos] if pos < len(ovr_map) else pos
        return f"o-{row}-{m.group(2) or 'gate'}"
    base = re.sub(r"\[\d+\]$", "", path)
    if base in _PATH_TO_KEY:
        return _PATH_TO_KEY[base]
    known = {"id", *SCALAR_INT, *SCALAR_NUM, *SCALAR_ENUM, *SCALAR_BOOL, "metastatic_sites", "unavailable_drugs",
             "available_drugs"}
    return base if base in known else None


def place_issues(state: FormState, issues: list[Issue], row_map: list[int], ovr_map: list[int]) -> FormState:
    """Attach each issue to its form field; the rest become general errors."""
    for issue in issues:
        key = form_key(issue.field, row_map, ovr_map)
        msg = issue.rule
        if issue.value is not None and not isinstance(issue.value, dict | list):
            shown = _fmt(issue.value)
            msg = f"{shown[:60]}: {issue.rule}" if shown else issue.rule
        if key is None:
            state.general_errors.append(f"{issue.field}: {msg}")
        else:
            state.errors.setdefault(key, []).append(msg)
    return state
