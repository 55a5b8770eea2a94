"""The exported JSON Schema carries every field of shared/contract.md; errors name field, value and rule."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli
from mbcpath.domain.validation import parse_patient
from mbcpath.errors import InputError

CONTRACT_PATIENT_FIELDS = [
    "id", "age_years", "sex", "menopausal_status", "ecog", "her2", "er_percent", "pr_percent", "presentation",
    "metastatic_diagnosis_months_ago", "metastatic_sites", "visceral_crisis", "brain_metastases",
    "extracranial_progression", "lvef_percent", "ild_history", "qtcf_ms", "neuropathy_grade", "pregnant",
    "treatments", "preferences", "unavailable_drugs", "decision_point",
]
CONTRACT_TREATMENT_FIELDS = ["drugs", "setting", "line", "phase", "started_months_ago", "ended_months_ago",
                             "stop_reason"]
CONTRACT_RECOMMENDATION_FIELDS = ["patient_id", "kb_release", "engine_version", "decision_point", "out_of_scope",
                                  "options", "excluded", "conflicts", "missing_data"]


def _schema(kind: str) -> dict:
    res = run_cli("schema", kind)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_patient_schema_has_every_contract_field():
    """`mbcpath schema patient` lists every patient and treatment field of the contract."""
    s = _schema("patient")
    assert set(CONTRACT_PATIENT_FIELDS) <= set(s["properties"])
    treatment = s["$defs"]["Treatment"]["properties"]
    assert set(CONTRACT_TREATMENT_FIELDS) <= set(treatment)
    assert s["$defs"]["Her2"]["properties"]["ihc"]["anyOf"][0]["enum"] == ["0", "1+", "2+", "3+"]


def test_recommendation_schema_has_every_contract_field():
    """`mbcpath schema recommendation` lists the contract's recommendation fields and component 'class'."""
    s = _schema("recommendation")
    assert set(CONTRACT_RECOMMENDATION_FIELDS) <= set(s["properties"])
    assert "class" in s["$defs"]["Component"]["properties"]


BASE = {"id": "t", "age_years": 56, "sex": "female", "menopausal_status": "postmenopausal", "ecog": 0,
        "her2": {"ihc": "3+", "ish": None}, "er_percent": 85, "pr_percent": 40, "presentation": "de_novo",
        "metastatic_diagnosis_months_ago": 0, "metastatic_sites": ["bone"], "visceral_crisis": False,
        "brain_metastases": "none", "lvef_percent": 62, "ild_history": "none", "qtcf_ms": 420,
        "neuropathy_grade": 0, "pregnant": False, "treatments": []}


@pytest.mark.parametrize(("patch", "field", "rule_part"), [
    ({"er_percent": 150}, "er_percent", "less than or equal to 100"),
    ({"ecog": 7}, "ecog", "less than or equal to 4"),
    ({"sex": "f"}, "sex", "'female' or 'male'"),
    ({"her2": {"ihc": "4+"}}, "her2.ihc", "'0', '1+', '2+' or '3+'"),
    ({"her2": {"ihc": "0", "ish": "amplified", "status": "negative"}}, "her2.status", "contradicts"),
    ({"sex": "male", "menopausal_status": "premenopausal"}, "menopausal_status", "not_applicable"),
    ({"pregnant": True}, "pregnant", "postmenopausal"),
    ({"metastatic_sites": ["bone", "brain"]}, "brain_metastases", "contradicts 'brain'"),
    ({"unavailable_drugs": ["pertuzamab"]}, "unavailable_drugs[0]", "did you mean: pertuzumab"),
    ({"decision_point": "second_line"}, "decision_point", "first_line"),
    ({"favourite_colour": "blue"}, "favourite_colour", "unknown field"),
    ({"ecog": True}, "ecog", "not true/false"),
    ({"er_percent": False}, "er_percent", "not true/false"),
    ({"treatments": [{"drugs": ["trastuzumab"], "setting": "adjuvant", "line": 1, "started_months_ago": 30,
                      "ended_months_ago": 20}]}, "treatments[0].line", "metastatic treatments only"),
    ({"treatments": [{"drugs": ["docetaxel"], "setting": "metastatic", "line": 1, "started_months_ago": 8,
                      "ended_months_ago": None}]}, "treatments[0].started_months_ago",
     "before the metastatic diagnosis"),
    ({"treatments": [{"drugs": ["docetaxel"], "setting": "metastatic", "line": 1, "started_months_ago": 0,
                      "ended_months_ago": None, "stop_reason": "progression"}]}, "treatments[0].stop_reason",
     "ongoing"),
])
def test_invalid_patients_name_field_value_and_rule(patch, field, rule_part):
    """Each contradiction or out-of-range value is rejected with its field path, value and rule."""
    with pytest.raises(InputError) as exc:
        parse_patient({**BASE, **patch})
    issue = exc.value.issues[0]
    assert issue.field == field
    assert rule_part in issue.rule
    assert field in exc.value.one_line()


def test_unknown_drug_lists_closest_names():
    """A misspelt drug is refused with the closest known names, never ignored."""
    p = {**BASE, "presentation": "recurrent",
         "treatments": [{"drugs": ["trastuzumabb"], "setting": "adjuvant", "started_months_ago": 30,
                         "ended_months_ago": 20, "stop_reason": "completed"}]}
    with pytest.raises(InputError) as exc:
        parse_patient(p)
    assert exc.value.issues[0].field == "treatments[0].drugs[0]"
    assert exc.value.issues[0].value == "trastuzumabb"
    assert "did you mean: trastuzumab" in exc.value.issues[0].rule


def test_malformed_json_file_is_refused_with_line_and_column(tmp_path):
    """The CLI names the file, line and column of a JSON syntax error (exit 2)."""
    f = tmp_path / "bad.json"
    f.write_text('{"age_years": 56,,}')
    res = run_cli("recommend", str(f), "--format", "json")
    assert res.returncode == 2
    assert "line 1 column" in res.stderr and str(f) in res.stderr
