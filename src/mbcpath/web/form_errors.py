"""Form errors in clinical words, every one at once.

Two things the contract's validation cannot do for a form:

* **Say it in the clinic's words.** pydantic speaks to developers ("Input should be less
  than or equal to 100", ``started_months_ago``); :func:`clinical_message` turns an
  :class:`~mbcpath.errors.Issue` into "ER must be between 0 and 100 %", with the field's
  label and unit, and the bounds read from the contract's own JSON Schema.
* **Show every error at once.** pydantic runs a model's cross-field checks only when all
  of its fields are valid, so a treatment that ends before it starts is reported only
  after a misspelt drug in the same row is fixed. :func:`every_issue` re-validates with the
  failing fields masked (removed, or set to a neutral placeholder together with the
  fields whose checks depend on them) and adds the issues that were hidden, until no
  new one appears. The checks themselves stay in the domain model: nothing is re-written.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from mbcpath.errors import InputError, Issue

__all__ = ["FIELD_TEXT", "clinical_message", "every_issue", "field_text"]

#: contract field -> (label, unit) as the form shows them
FIELD_TEXT: dict[str, tuple[str, str]] = {
    "id": ("Case identifier", ""), "age_years": ("Age", "years"), "sex": ("Sex", ""),
    "menopausal_status": ("Menopausal status", ""), "ecog": ("ECOG performance status", ""),
    "her2": ("HER2", ""), "her2.ihc": ("HER2 IHC", ""), "her2.ish": ("HER2 ISH", ""), "her2.status": ("HER2", ""),
    "er_percent": ("ER", "%"), "pr_percent": ("PR", "%"), "presentation": ("Presentation", ""),
    "metastatic_diagnosis_months_ago": ("Metastatic diagnosis", "months ago"),
    "metastatic_sites": ("Metastatic sites", ""), "visceral_crisis": ("Visceral crisis", ""),
    "brain_metastases": ("Brain metastases", ""), "extracranial_progression": ("Extracranial progression", ""),
    "lvef_percent": ("LVEF", "%"), "lvef_baseline_percent": ("Baseline LVEF", "%"),
    "heart_failure": ("Symptomatic heart failure", ""), "ild_history": ("ILD / pneumonitis", ""),
    "qtcf_ms": ("QTcF", "ms"), "neuropathy_grade": ("Peripheral neuropathy grade", ""),
    "pregnant": ("Pregnant", ""), "pregnancy_trimester": ("Pregnancy trimester", ""),
    "hepatic": ("Liver function", ""), "hepatic.bilirubin_x_uln": ("Bilirubin", "× ULN"),
    "hepatic.ast_x_uln": ("AST", "× ULN"), "hepatic.alt_x_uln": ("ALT", "× ULN"),
    "hepatic.alp_x_uln": ("Alkaline phosphatase", "× ULN"), "hepatic.child_pugh": ("Child-Pugh class", ""),
    "interacting_drugs": ("Interacting drugs", ""), "distant_metastases": ("Distant metastases", ""),
    "treatments": ("Treatment", ""), "preferences": ("Preferences", ""),
    "preferences.avoid_chemotherapy": ("Declines chemotherapy", ""), "unavailable_drugs": ("Drugs not available", ""),
    "available_drugs": ("Restricted drugs available", ""), "gate_overrides": ("Override", ""),
    "decision_point": ("Decision point", ""),
    # treatment rows
    "drugs": ("Drugs", ""), "setting": ("Setting", ""), "line": ("Line", ""), "phase": ("Phase", ""),
    "started_months_ago": ("Started", "months ago"), "ended_months_ago": ("Ended", "months ago"),
    "stop_reason": ("Stop reason", ""), "cycles": ("Cycles", ""),
    "pathological_response": ("Pathological response", ""),
    # override rows
    "gate": ("Safety gate", ""), "reason": ("Documented reason", ""),
}
_INDEX = re.compile(r"\[\d+\]")


def _generic(path: str) -> str:
    """``treatments[2].ended_months_ago`` -> ``treatments.ended_months_ago``; row fields by their own name."""
    bare = _INDEX.sub("", path)
    if bare.startswith(("treatments.", "gate_overrides.")):
        return bare.split(".", 1)[1].split(".")[0]
    return bare


def field_text(path: str) -> tuple[str, str]:
    """(label, unit) of a contract path."""
    bare = _generic(path)
    return FIELD_TEXT.get(bare) or FIELD_TEXT.get(bare.split(".")[0]) or (bare.replace("_", " "), "")


# --------------------------------------------------------------------------- bounds from the JSON Schema
@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    from mbcpath.domain.patient import Patient

    return Patient.model_json_schema()


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema alternatives of ``node`` (``anyOf`` branches and ``$ref`` targets, one level)."""
    out = []
    for alt in node.get("anyOf", [node]):
        ref = alt.get("$ref")
        out.append(defs[ref.rsplit("/", 1)[1]] if ref else alt)
    return out


def bounds(path: str) -> tuple[float | None, float | None]:
    """The contract's minimum and maximum for a numeric path (``treatments[0].line`` -> (1, 20))."""
    schema = _schema()
    defs = schema.get("$defs", {})
    node: dict[str, Any] = schema
    for part in _INDEX.sub("", path).split("."):
        found = None
        for alt in _resolve(node, defs):
            items = alt.get("items")
            holder = _resolve(items, defs)[0] if items else alt
            if part in holder.get("properties", {}):
                found = holder["properties"][part]
        if found is None:
            return None, None
        node = found
    for alt in _resolve(node, defs):
        lo, hi = alt.get("minimum", alt.get("ge")), alt.get("maximum", alt.get("le"))
        if lo is not None or hi is not None:
            return lo, hi
    return None, None


# --------------------------------------------------------------------------- clinical words
def _n(x: float | None) -> str:
    return "" if x is None else (str(int(x)) if float(x).is_integer() else str(x))


def _range(path: str, label: str, unit: str, *, kind: str = "") -> str:
    """``ER must be between 0 and 100 %``; ``kind`` ("a number", "a whole number") when the type was wrong."""
    lo, hi = bounds(path)
    kind = f"{kind} " if kind else ""
    unit = f" {unit}" if unit else ""
    if lo is not None and hi is not None:
        return f"{label} must be {kind}between {_n(lo)} and {_n(hi)}{unit}"
    if lo is not None:
        return f"{label} must be {kind}at least {_n(lo)}{unit}"
    return f"{label} must be {kind or 'a number '}".rstrip() + unit


_PYDANTIC: tuple[tuple[re.Pattern[str], Callable[[str, str, str], str]], ...] = (
    (re.compile(r"^Input should be (less|greater) than"), lambda p, lab, u: _range(p, lab, u)),
    (re.compile(r"^Input should be a valid integer"), lambda p, lab, u: _range(p, lab, u, kind="a whole number")),
    (re.compile(r"^Input should be a valid number|^must be a number"),
     lambda p, lab, u: _range(p, lab, u, kind="a number")),
    (re.compile(r"^required field is missing"), lambda p, lab, u: f"{lab} is required"),
    (re.compile(r"^Input should be a valid boolean"), lambda p, lab, u: f"{lab}: choose Yes, No or Unknown"),
    (re.compile(r"^Input should be '"), lambda p, lab, u: f"{lab}: choose one of the listed values"),
    (re.compile(r"^List should have at least 1 item"), lambda p, lab, u: f"{lab}: enter at least one drug name"),
    (re.compile(r"^String should have at least (\d+) character"),
     lambda p, lab, u: f"{lab} is too short: write the reason in a few words"),
    (re.compile(r"^String should have at most"), lambda p, lab, u: f"{lab} is too long"),
    (re.compile(r"^unknown field"), lambda p, lab, u: f"{lab} is not a field of the patient record"),
    (re.compile(r"^unknown drug name"), lambda p, lab, u: f"{lab}: not a known drug name"),
)

#: The domain's contradiction rules (mbcpath.domain.patient) in the form's words.
_CONTRADICTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^ends before the treatment started \(started_months_ago = ([\d.]+)\)"),
     "Ended ({value} months ago) is before Started ({0} months ago): a treatment cannot end before it starts "
     "(months count back from today, so Ended is the smaller number)"),
    (re.compile(r"^line applies to metastatic treatments only"),
     "Line applies to metastatic treatments only: leave it blank for adjuvant or neoadjuvant treatment"),
    (re.compile(r"^phase applies to metastatic treatments only"),
     "Phase applies to metastatic treatments only: leave it blank for adjuvant or neoadjuvant treatment"),
    (re.compile(r"^applies to neoadjuvant treatments only"),
     "Pathological response applies to neoadjuvant treatments only"),
    (re.compile(r"^given for an ongoing treatment"),
     "A stop reason is given but the treatment has no end: fill in Ended, or choose 'None (ongoing)'"),
    (re.compile(r"^menopausal status applies to women"),
     "Menopausal status applies to women: choose 'Not applicable (men)' for a man"),
    (re.compile(r"^cannot be true for sex 'male'"), "Pregnant cannot be 'Yes' for a man"),
    (re.compile(r"^given but pregnant is not true"), "Pregnancy trimester is given but Pregnant is not 'Yes'"),
    (re.compile(r"^contradicts menopausal_status 'postmenopausal'"),
     "Pregnant 'Yes' contradicts menopausal status 'Postmenopausal'"),
    (re.compile(r"^contradicts 'brain' in metastatic_sites"),
     "Brain metastases 'None' contradicts the ticked metastatic site 'Brain'"),
    (re.compile(r"^brain_metastases is '(\w+)' but 'brain' is not listed"),
     "Brain metastases are '{0}' but 'Brain' is not ticked under metastatic sites"),
    (re.compile(r"^a metastatic treatment cannot start before the metastatic diagnosis "
                r"\(metastatic_diagnosis_months_ago = ([\d.]+)\)"),
     "A metastatic treatment cannot start ({value} months ago) before the metastatic diagnosis ({0} months ago)"),
    (re.compile(r"^\(neo\)adjuvant treatment cannot start after the metastatic diagnosis "
                r"\(metastatic_diagnosis_months_ago = ([\d.]+)\)"),
     "An adjuvant or neoadjuvant treatment cannot start ({value} months ago) after the metastatic diagnosis "
     "({0} months ago)"),
    (re.compile(r"^contradicts a \(neo\)adjuvant treatment in treatments"),
     "'De novo stage IV' contradicts an adjuvant or neoadjuvant treatment in the treatment history"),
)


def _shown(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)[:60]


def _suggestion(rule: str) -> str:
    """The domain's "did you mean: ..." hint, kept as it is."""
    _, sep, hint = rule.partition("; did you mean:")
    return f"; did you mean:{hint}" if sep else ""


def _label_names(text: str) -> str:
    """Replace contract field names left in a rule with their form labels (never show JSON names)."""
    def sub(m: re.Match[str]) -> str:
        name = m.group(0)
        return f"'{FIELD_TEXT[name][0]}'" if name in FIELD_TEXT and "_" in name else name

    def row(m: re.Match[str]) -> str:
        what = "treatment" if m.group(1) == "treatments" else "override"
        name = FIELD_TEXT.get(m.group(3) or "", (m.group(3) or "", ""))[0]
        return f"{what} {int(m.group(2)) + 1}" + (f" '{name}'" if name else "")

    text = re.sub(r"\b(treatments|gate_overrides)\[(\d+)\](?:\.(\w+))?", row, text)
    return re.sub(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", sub, text)


def clinical_message(issue: Issue) -> str:
    """The form's message for one issue: the field's label, the rule in clinical words, and the value entered."""
    label, unit = field_text(issue.field)
    shown = _shown(issue.value)
    for pattern, template in _CONTRADICTIONS:
        m = pattern.match(issue.rule)
        if m:
            return template.format(*m.groups(), value=shown)
    for pattern, make in _PYDANTIC:
        if pattern.match(issue.rule):
            text = make(issue.field, label, unit) + _suggestion(issue.rule)
            return f"{text} (entered: {shown})" if shown and "required" not in text else text
    text = _label_names(issue.rule)
    return f"{label}: {text}" + (f" (entered: {shown})" if shown and shown not in text else "")


# --------------------------------------------------------------------------- every issue at once
#: masking a field also masks the fields whose checks read it (so no error is invented)
_DEPENDENTS = {"pregnant": ("pregnancy_trimester",), "metastatic_sites": ("brain_metastases",),
               "her2": ("her2",), "setting": ("line", "phase", "pathological_response"),
               "started_months_ago": ("ended_months_ago", "stop_reason"), "ended_months_ago": ("stop_reason",)}
_ROW = re.compile(r"^treatments\[(\d+)\](?:\.(\w+))?")
_MAX_ROUNDS = 6


def _mask_top(data: dict[str, Any], name: str) -> None:
    placeholders: dict[str, Any] = {"age_years": 50, "sex": "female", "her2": {}}
    for key in (name, *_DEPENDENTS.get(name, ())):
        if key in placeholders:
            data[key] = copy.deepcopy(placeholders[key])
        else:
            data.pop(key, None)


def _mask_row(data: dict[str, Any], index: int, name: str | None) -> None:
    rows = data.get("treatments")
    if not isinstance(rows, list) or index >= len(rows) or not isinstance(rows[index], dict):
        return
    row = rows[index]
    if name is None:  # a contradiction within the row: leave the row out of later rounds
        rows[index] = None
        return
    dx = data.get("metastatic_diagnosis_months_ago")
    placeholders: dict[str, Any] = {"drugs": ["trastuzumab"], "setting": "metastatic",
                                    "started_months_ago": dx if isinstance(dx, int | float) else 0}
    for key in (name, *_DEPENDENTS.get(name, ())):
        if key in placeholders:
            row[key] = placeholders[key]
        else:
            row.pop(key, None)


def _masked(data: Mapping[str, Any], issues: list[Issue]) -> dict[str, Any]:
    out = copy.deepcopy(dict(data))
    for issue in issues:
        m = _ROW.match(issue.field)
        if m:
            _mask_row(out, int(m.group(1)), m.group(2))
        elif issue.field != "(root)":
            _mask_top(out, _INDEX.sub("", issue.field).split(".")[0])
    if isinstance(out.get("treatments"), list):
        out["treatments"] = [t for t in out["treatments"] if t is not None]
    return out


def every_issue(data: Any, issues: list[Issue]) -> list[Issue]:
    """``issues`` and every issue hidden behind them (cross-field checks that a failing field kept from running).

    Treatments left out of a later round (because of a contradiction within the row) shift the
    indices of the rows after them; issues found in such a round about rows are kept only when no
    row was left out, so that every issue still names the right row.
    """
    from mbcpath.domain.validation import parse_patient

    if not isinstance(data, Mapping):
        return list(issues)
    out = list(issues)
    seen = {(i.field, i.rule) for i in out}
    for _ in range(_MAX_ROUNDS):
        masked = _masked(data, out)
        dropped = len(masked.get("treatments") or []) != len(data.get("treatments") or [])
        try:
            parse_patient(masked)
        except InputError as err:
            new = [i for i in err.issues if (i.field, i.rule) not in seen and _fresh(i, out, dropped)]
        else:
            new = []
        if not new:
            break
        out += new
        seen |= {(i.field, i.rule) for i in new}
    return out


def _fresh(issue: Issue, known: list[Issue], rows_shifted: bool) -> bool:
    """A new issue counts unless it sits on a field already reported (its value was a placeholder)."""
    if rows_shifted and issue.field.startswith("treatments["):
        return False
    return all(issue.field != k.field and not issue.field.startswith(k.field + ".") for k in known)
