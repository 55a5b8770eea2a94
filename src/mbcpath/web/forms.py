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
from mbcpath.web.form_errors import clinical_message
from mbcpath.web.form_errors import every_issue as _every_issue

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
TRIMESTER = [("", "—"), ("1", "First"), ("2", "Second"), ("3", "Third")]
CHILD_PUGH = [("", "Not assessed"), ("A", "A"), ("B", "B"), ("C", "C")]
RESPONSE = [("", "—"), ("pcr", "Pathological complete response"), ("residual_disease", "Residual disease")]
#: Concomitant drug categories that labels name (contract field ``interacting_drugs``).
INTERACTING = [
    ("strong_cyp3a_inhibitor", "Strong CYP3A inhibitor"), ("moderate_cyp3a_inhibitor", "Moderate CYP3A inhibitor"),
    ("strong_cyp3a_inducer", "Strong CYP3A inducer"), ("moderate_cyp3a_inducer", "Moderate CYP3A inducer"),
    ("strong_cyp2c8_inhibitor", "Strong CYP2C8 inhibitor"), ("moderate_cyp2c8_inducer", "Moderate CYP2C8 inducer"),
    ("sensitive_cyp3a_substrate", "Sensitive CYP3A substrate"), ("pgp_substrate", "P-gp substrate"),
    ("qt_prolonging", "QT-prolonging drug"), ("acid_reducing_agent", "Acid-reducing agent (PPI, H2 blocker)"),
    ("warfarin", "Warfarin"), ("estrogen_containing", "Oestrogen-containing product"),
    ("strong_cyp2d6_inhibitor", "Strong CYP2D6 inhibitor"),
]

KNOWN_DRUGS_SORTED = sorted(DRUG_CLASSES)

SCALAR_INT = ("age_years", "ecog", "neuropathy_grade", "pregnancy_trimester")
SCALAR_NUM = ("er_percent", "pr_percent", "metastatic_diagnosis_months_ago", "lvef_percent", "lvef_baseline_percent",
              "qtcf_ms")
SCALAR_ENUM = ("sex", "menopausal_status", "presentation", "brain_metastases", "ild_history", "decision_point")
SCALAR_BOOL = ("visceral_crisis", "extracranial_progression", "heart_failure", "pregnant", "distant_metastases")
HEPATIC_NUM = ("bilirubin_x_uln", "ast_x_uln", "alt_x_uln", "alp_x_uln")
ROW_FIELDS = ("drugs", "setting", "line", "phase", "started_months_ago", "ended_months_ago", "stop_reason", "cycles",
              "pathological_response")
_ROW_KEY = re.compile(r"^t-(\d{1,3})-(\w+)$")
_OVR_KEY = re.compile(r"^o-(\d{1,3})-(\w+)$")
MAX_ROWS = 40


def blank_values() -> dict[str, Any]:
    """The empty form: only non-clinical defaults (unknowns stay unknown, so they show as missing data)."""
    return {"id": "", "sex": "female", "menopausal_status": "unknown", "metastatic_diagnosis_months_ago": "0",
            "metastatic_sites": [], "interacting_drugs": [], "decision_point": ""}


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


def _getlist(form: Any, key: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    items = getlist(key) if getlist else form.get(key, [])
    return [x for x in (items if isinstance(items, list) else [items]) if isinstance(x, str)]


def state_from_form(form: Any) -> FormState:
    """Read posted form fields (a Starlette ``FormData`` or a dict) into a :class:`FormState`."""
    values: dict[str, Any] = {}
    for k in ("id", *SCALAR_INT, *SCALAR_NUM, *SCALAR_ENUM, *SCALAR_BOOL, "her2_ihc", "her2_ish",
              "avoid_chemotherapy", "unavailable_drugs", "available_drugs", "hepatic_child_pugh",
              *(f"hepatic_{h}" for h in HEPATIC_NUM)):
        values[k] = _get(form, k)
    for k in ("metastatic_sites", "interacting_drugs"):
        values[k] = _getlist(form, k)
    rows = [{f: _get(form, f"t-{i}-{f}") for f in ROW_FIELDS} for i in _row_indices(form, _ROW_KEY)]
    overrides = [{f: _get(form, f"o-{i}-{f}") for f in ("gate", "reason")} for i in _row_indices(form, _OVR_KEY)]
    return FormState(values=values, rows=rows, overrides=overrides)


def _row_empty(row: Mapping[str, str]) -> bool:
    return not any(row.get(f, "").strip() for f in ("drugs", "line", "started_months_ago", "ended_months_ago",
                                                    "cycles"))


def _hepatic(v: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``hepatic`` object, or None when no liver value was entered."""
    out: dict[str, Any] = {h: _num(v.get(f"hepatic_{h}", ""), integer=False) for h in HEPATIC_NUM}
    out["child_pugh"] = v.get("hepatic_child_pugh") or None
    out = {k: x for k, x in out.items() if x is not None}
    return out or None


def _treatment(row: Mapping[str, str]) -> dict[str, Any]:
    t: dict[str, Any] = {
        "drugs": _drug_list(row.get("drugs", "")),
        "setting": row.get("setting") or "metastatic",
        "started_months_ago": _num(row.get("started_months_ago", ""), integer=False),
        "ended_months_ago": _num(row.get("ended_months_ago", ""), integer=False),
        "stop_reason": row.get("stop_reason") or None,
    }
    if t["started_months_ago"] is None:
        t.pop("started_months_ago")
    for key in ("line", "cycles"):
        value = _num(row.get(key, ""), integer=True)
        if value is not None:
            t[key] = value
    for key in ("phase", "pathological_response"):
        if row.get(key):
            t[key] = row[key]
    return t


#: Absent rather than null when not given (as in a contract file that leaves them out).
_OMIT_WHEN_NONE = ("age_years", "sex", "decision_point", "pregnancy_trimester", "lvef_baseline_percent",
                   "distant_metastases")


def _scalars(v: Mapping[str, Any]) -> dict[str, Any]:
    """The patient's single-valued fields; required ones left empty are omitted so validation names them."""
    data: dict[str, Any] = {}
    if v.get("id", "").strip():
        data["id"] = v["id"].strip()
    data.update({k: _num(v.get(k, ""), integer=True) for k in SCALAR_INT})
    data.update({k: _num(v.get(k, ""), integer=False) for k in SCALAR_NUM})
    data.update({k: v.get(k) or None for k in SCALAR_ENUM})
    data.update({k: _bool(v.get(k, "")) for k in SCALAR_BOOL})
    data["menopausal_status"] = data.get("menopausal_status") or "unknown"
    for k in _OMIT_WHEN_NONE:
        if data.get(k) is None:
            data.pop(k, None)
    return data


def _lists_and_objects(v: Mapping[str, Any]) -> dict[str, Any]:
    """HER2, sites, preferences, formulary, interacting drugs and liver function."""
    avoid = _bool(v.get("avoid_chemotherapy", ""))
    data: dict[str, Any] = {
        "her2": {"ihc": v.get("her2_ihc") or None, "ish": v.get("her2_ish") or None},
        "metastatic_sites": list(v.get("metastatic_sites") or []),
        "preferences": {"avoid_chemotherapy": avoid} if avoid is not None else {},
        "unavailable_drugs": _drug_list(v.get("unavailable_drugs", "")),
        "available_drugs": _drug_list(v.get("available_drugs", "")),
        "interacting_drugs": list(v.get("interacting_drugs") or []),
    }
    hepatic = _hepatic(v)
    if hepatic is not None:
        data["hepatic"] = hepatic
    return data


def contract_from_state(state: FormState) -> tuple[dict[str, Any], list[int], list[int]]:
    """The contract dict of a form, with the form row index of each treatment / override kept."""
    data = {**_scalars(state.values), **_lists_and_objects(state.values)}
    kept = [(i, row) for i, row in enumerate(state.rows) if not _row_empty(row)]
    data["treatments"] = [_treatment(row) for _, row in kept]
    row_map = [i for i, _ in kept]
    given = [(i, o) for i, o in enumerate(state.overrides) if o.get("gate", "").strip() or o.get("reason", "").strip()]
    if given:
        data["gate_overrides"] = [{"gate": o.get("gate", "").strip(), "reason": o.get("reason", "").strip()}
                                  for _, o in given]
    return data, row_map, [i for i, _ in given]


def _fmt(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _mapping(x: Any) -> Mapping[str, Any]:
    return x if isinstance(x, Mapping) else {}


def _row_values(t: Mapping[str, Any]) -> dict[str, str]:
    drugs = t.get("drugs") or []
    row = {f: _fmt(t.get(f)) for f in ROW_FIELDS if f != "drugs"}
    row["drugs"] = ", ".join(str(d) for d in drugs) if isinstance(drugs, list) else ""
    row["setting"] = row["setting"] or "metastatic"
    return row


def state_from_contract(data: Mapping[str, Any]) -> FormState:
    """Prefill the form from a contract patient (an example, or the patient being edited)."""
    v: dict[str, Any] = blank_values()
    v["id"] = _fmt(data.get("id"))
    for k in (*SCALAR_INT, *SCALAR_NUM, *SCALAR_ENUM, *SCALAR_BOOL):
        if k in data:
            v[k] = _fmt(data.get(k))
    her2 = _mapping(data.get("her2"))
    v["her2_ihc"] = _fmt(her2.get("ihc"))
    v["her2_ish"] = _fmt(her2.get("ish"))
    for k in ("metastatic_sites", "interacting_drugs"):
        items = data.get(k) or []
        v[k] = [str(x) for x in items] if isinstance(items, list) else []
    hepatic = _mapping(data.get("hepatic"))
    v.update({f"hepatic_{h}": _fmt(hepatic.get(h)) for h in (*HEPATIC_NUM, "child_pugh")})
    v["avoid_chemotherapy"] = _fmt(_mapping(data.get("preferences")).get("avoid_chemotherapy"))
    for k in ("unavailable_drugs", "available_drugs"):
        names = data.get(k) or []
        v[k] = ", ".join(str(n) for n in names) if isinstance(names, list) else ""
    rows = [_row_values(t) for t in data.get("treatments") or [] if isinstance(t, Mapping)]
    overrides = [{"gate": _fmt(o.get("gate")), "reason": _fmt(o.get("reason"))}
                 for o in data.get("gate_overrides") or [] if isinstance(o, Mapping)]
    return FormState(values=v, rows=rows, overrides=overrides)


_PATH_TO_KEY = {"her2": "her2_ihc", "her2.ihc": "her2_ihc", "her2.ish": "her2_ish", "her2.status": "her2_ihc",
                "preferences": "avoid_chemotherapy", "preferences.avoid_chemotherapy": "avoid_chemotherapy",
                "hepatic": "hepatic_bilirubin_x_uln", "hepatic.child_pugh": "hepatic_child_pugh",
                **{f"hepatic.{h}": f"hepatic_{h}" for h in HEPATIC_NUM}}
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
             "available_drugs", "interacting_drugs"}
    return base if base in known else None


def place_issues(state: FormState, issues: list[Issue], row_map: list[int], ovr_map: list[int]) -> FormState:
    """Attach each issue, in clinical words, to its form field; the rest become general errors."""
    for issue in issues:
        key = form_key(issue.field, row_map, ovr_map)
        msg = clinical_message(issue)
        if key is None:
            state.general_errors.append(msg)
        elif msg not in state.errors.get(key, []):
            state.errors.setdefault(key, []).append(msg)
    return state


#: Form keys as the error summary names them (scalar fields by their label; rows as "Treatment N, ...").
FIELD_LABELS = {
    "id": "Case identifier", "age_years": "Age", "sex": "Sex", "menopausal_status": "Menopausal status",
    "ecog": "ECOG", "pregnant": "Pregnant", "pregnancy_trimester": "Pregnancy trimester", "her2_ihc": "HER2 IHC",
    "her2_ish": "HER2 ISH", "er_percent": "ER", "pr_percent": "PR", "presentation": "Presentation",
    "metastatic_diagnosis_months_ago": "Metastatic diagnosis", "visceral_crisis": "Visceral crisis",
    "brain_metastases": "Brain metastases", "extracranial_progression": "Extracranial progression",
    "metastatic_sites": "Metastatic sites", "distant_metastases": "Distant metastases", "lvef_percent": "LVEF",
    "lvef_baseline_percent": "Baseline LVEF", "heart_failure": "Heart failure", "ild_history": "ILD / pneumonitis",
    "qtcf_ms": "QTcF", "neuropathy_grade": "Neuropathy", "hepatic_bilirubin_x_uln": "Bilirubin",
    "hepatic_ast_x_uln": "AST", "hepatic_alt_x_uln": "ALT", "hepatic_alp_x_uln": "Alkaline phosphatase",
    "hepatic_child_pugh": "Child-Pugh class", "interacting_drugs": "Interacting drugs",
    "avoid_chemotherapy": "Declines chemotherapy", "decision_point": "Decision point",
    "unavailable_drugs": "Drugs not available", "available_drugs": "Restricted drugs available",
}


def field_labels(state: FormState) -> dict[str, str]:
    """Labels of every key with an error, rows included (``t-1-ended_months_ago`` -> ``Treatment 2``)."""
    labels = dict(FIELD_LABELS)
    for key in state.errors:
        if key.startswith(("t-", "o-")):
            kind, idx, _ = key.split("-", 2)
            labels[key] = f"{'Treatment' if kind == 't' else 'Override'} {int(idx) + 1}"
    return labels


def every_issue(data: Any, issues: list[Issue]) -> list[Issue]:
    """The issues of ``data`` and those hidden behind them (see :func:`mbcpath.web.form_errors.every_issue`)."""
    return _every_issue(data, issues)
