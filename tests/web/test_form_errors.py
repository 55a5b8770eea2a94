"""Form errors in clinical words, all at once: the messages, the masking that reveals hidden cross-field errors,
and the form page that shows them (summary plus full-width row blocks)."""

from __future__ import annotations

import re

import pytest

from mbcpath.errors import InputError, Issue
from mbcpath.web import forms
from mbcpath.web.form_errors import FIELD_TEXT, bounds, clinical_message, every_issue

from .conftest import HTML, case

#: Contract field names that must never reach a clinician's eyes.
JSON_NAMES = re.compile(r"\b(" + "|".join(sorted((k for k in FIELD_TEXT if "_" in k), key=len, reverse=True))
                        + r")\b")


def _issues(data):
    from mbcpath.domain.validation import parse_patient

    with pytest.raises(InputError) as err:
        parse_patient(data)
    return every_issue(data, err.value.issues)


@pytest.mark.parametrize(("issue", "message"), [
    (Issue("er_percent", 150, "Input should be less than or equal to 100"),
     "ER must be between 0 and 100 % (entered: 150)"),
    (Issue("age_years", "abc", "Input should be a valid integer, unable to parse string as an integer"),
     "Age must be a whole number between 18 and 110 years (entered: abc)"),
    (Issue("age_years", None, "required field is missing"), "Age is required"),
    (Issue("treatments[2].line", 0, "Input should be greater than or equal to 1"),
     "Line must be between 1 and 20 (entered: 0)"),
    (Issue("hepatic.ast_x_uln", -1, "Input should be greater than or equal to 0"),
     "AST must be between 0 and 200 × ULN (entered: -1)"),
    (Issue("pregnant", "maybe", "Input should be a valid boolean, unable to interpret input"),
     "Pregnant: choose Yes, No or Unknown (entered: maybe)"),
    (Issue("treatments[0].ended_months_ago", 8.0, "ends before the treatment started (started_months_ago = 3); "
                                                   "months count back from now, so ended_months_ago must be <= "
                                                   "started_months_ago"),
     "Ended (8 months ago) is before Started (3 months ago): a treatment cannot end before it starts (months count "
     "back from today, so Ended is the smaller number)"),
])
def test_clinical_messages(issue, message):
    """pydantic's and the domain's rules read in the clinic's words, with the field's label, unit and bounds."""
    assert clinical_message(issue) == message


def test_bounds_come_from_the_contract_schema():
    """Bounds are read from the contract's JSON Schema, nested and optional fields included."""
    assert bounds("er_percent") == (0, 100)
    assert bounds("treatments[3].ended_months_ago") == (0, 600)
    assert bounds("hepatic.bilirubin_x_uln") == (0, 100)
    assert bounds("sex") == (None, None)


def test_unknown_rule_keeps_no_json_names():
    """A rule this module does not know still loses its JSON field names."""
    msg = clinical_message(Issue("treatments[1].line", 2, "line 2 starts before line 1 "
                                                         "(treatments[0].started_months_ago = 3)"))
    assert "treatment 1 'Started'" in msg and not JSON_NAMES.search(msg)


def test_every_error_at_once_including_the_cross_field_ones():
    """ER 150, a misspelt drug in a row that also ends before it starts, pregnancy while postmenopausal and a
    metastatic treatment before the diagnosis: all five come back in one answer."""
    data = {**case("seed-01-first-line"), "er_percent": 150, "pregnant": True, "metastatic_diagnosis_months_ago": 10,
            "presentation": "recurrent",
            "treatments": [{"drugs": ["trastuzumabb"], "setting": "metastatic", "started_months_ago": 3,
                            "ended_months_ago": 8, "stop_reason": "progression"},
                           {"drugs": ["docetaxel"], "setting": "metastatic", "started_months_ago": 20}]}
    found = {(i.field, clinical_message(i)) for i in _issues(data)}
    fields = {f for f, _ in found}
    assert {"er_percent", "treatments[0].drugs[0]", "treatments[0].ended_months_ago", "pregnant",
            "treatments[1].started_months_ago"} <= fields
    for _, msg in found:
        assert not JSON_NAMES.search(msg), msg


def test_masking_invents_no_error():
    """A failing field replaced for the re-check never produces an error of its own: a bad 'started' does not
    make a (correct) 'ended' look wrong, and a bad sex does not make pregnancy look wrong."""
    data = {**case("seed-01-first-line"), "sex": "x", "pregnant": True, "pregnancy_trimester": 2,
            "menopausal_status": "premenopausal",
            "treatments": [{"drugs": ["docetaxel"], "setting": "metastatic", "started_months_ago": "soon",
                            "ended_months_ago": 2, "stop_reason": "completed"}]}
    fields = [i.field for i in _issues(data)]
    assert sorted(fields) == ["sex", "treatments[0].started_months_ago"]


def _form(patient: dict, **extra) -> dict:
    from .test_pages import form_of

    return {**form_of(patient), "action": "evaluate", **extra}


def test_form_page_shows_every_error_in_clinical_words(client):
    """The form comes back 422 with all errors in the summary, row errors in a full-width block of their row, and
    no developer wording."""
    p = case("seed-01-first-line")
    form = _form(p, er_percent="150", presentation="recurrent", metastatic_diagnosis_months_ago="10",
                 **{"t-0-drugs": "trastuzumabb", "t-0-setting": "metastatic", "t-0-started_months_ago": "3",
                    "t-0-ended_months_ago": "8", "t-0-stop_reason": "progression"})
    r = client.post("/patient", data=form, headers=HTML)
    assert r.status_code == 422
    html = r.text
    summary = html[html.index('id="error-summary"'):html.index("</div>", html.index('id="error-summary"'))]
    assert "ER must be between 0 and 100 %" in summary
    assert "Treatment 1: Drugs: not a known drug name; did you mean: trastuzumab" in summary
    assert "Treatment 1: Ended (8 months ago) is before Started (3 months ago)" in summary
    assert "3 problems to correct" in summary
    row = html[html.index('<li class="row" data-row="0">'):html.index("</li>", html.index('data-row="0"'))]
    block = row[row.index('class="row-errors"'):row.index('<div class="grid grid-row">')]
    assert 'id="t-0-drugs-error"' in block and 'id="t-0-ended_months_ago-error"' in block
    assert re.search(r'id="t-0-ended_months_ago"[^>]*aria-describedby="t-0-ended_months_ago-error" '
                     r'aria-invalid="true"', row)
    assert "Input should be" not in html and "ended_months_ago =" not in html


def test_new_contract_fields_round_trip_through_the_form():
    """Hepatic values, baseline LVEF, trimester, interacting drugs, cycles, pathological response, available drugs
    and distant metastases go form -> contract -> form unchanged."""
    from mbcpath.domain.validation import parse_patient

    p = {**case("seed-01-first-line"), "hepatic": {"bilirubin_x_uln": 1.6, "ast_x_uln": 2.5, "child_pugh": "A"},
         "lvef_baseline_percent": 64, "menopausal_status": "premenopausal", "pregnant": True,
         "pregnancy_trimester": 2, "interacting_drugs": ["strong_cyp3a_inhibitor", "qt_prolonging"],
         "available_drugs": ["pyrotinib"], "distant_metastases": True, "presentation": "recurrent",
         "metastatic_diagnosis_months_ago": 2,
         "treatments": [{"drugs": ["docetaxel", "trastuzumab", "pertuzumab"], "setting": "neoadjuvant",
                         "started_months_ago": 30, "ended_months_ago": 26, "stop_reason": "completed",
                         "cycles": 6, "pathological_response": "residual_disease"}]}
    data, _, _ = forms.contract_from_state(forms.state_from_contract(p))
    assert parse_patient(data) == parse_patient(p)
    back = forms.state_from_contract(data)
    assert back.values["hepatic_child_pugh"] == "A" and back.rows[0]["cycles"] == "6"


def test_form_page_has_the_new_fields(client):
    """The form offers the new contract fields, each with a label."""
    html = client.get("/patient", headers=HTML).text
    for name in ("hepatic_bilirubin_x_uln", "hepatic_ast_x_uln", "hepatic_alt_x_uln", "hepatic_alp_x_uln",
                 "hepatic_child_pugh", "lvef_baseline_percent", "pregnancy_trimester", "distant_metastases",
                 "available_drugs"):
        assert f'<label for="{name}">' in html, name
    assert 'name="interacting_drugs" value="strong_cyp3a_inhibitor"' in html
    assert 'id="t-__i__-cycles"' in html and 'id="t-__i__-pathological_response"' in html
