"""Strict input, one place for every adapter (issue 9): exact JSON types, duplicate keys, invalid text,
schema bounds, content types, and the same bytes from the API and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CASES, case

PROBLEM = "application/problem+json"
SEED = "seed-01-first-line"
API = "/api/v1/recommendations"
ROOT = Path(__file__).resolve().parents[2]


def post_raw(client, raw: bytes | str, path: str = API):
    data = raw.encode() if isinstance(raw, str) else raw
    return client.post(path, content=data, headers={"content-type": "application/json"})


def with_field(name: str, raw_value: str, path: str = "") -> str:
    """The seed patient as JSON text with one field's value replaced by raw JSON text."""
    p = case(SEED)
    target = p
    for part in filter(None, path.split(".")):
        target = target.setdefault(part, {})
    target[name] = "__X__"
    return json.dumps(p).replace('"__X__"', raw_value)


# --------------------------------------------------------------------------- coercion (finding 2)
@pytest.mark.parametrize(("name", "raw", "parent", "rule"), [
    ("pregnant", '"yes"', "", "must be JSON true or false"),
    ("pregnant", '"off"', "", "must be JSON true or false"),
    ("pregnant", "0", "", "must be JSON true or false"),
    ("pregnant", "1", "", "must be JSON true or false"),
    ("age_years", '"56"', "", "must be a JSON integer"),
    ("age_years", "56.0", "", "must be a JSON integer"),
    ("age_years", "true", "", "must be a JSON integer"),
    ("qtcf_ms", '"4.5e2"', "", "must be a JSON number"),
    ("qtcf_ms", "true", "", "must be a JSON number"),
    ("ecog", '" 1 "', "", "must be a JSON integer"),
    ("avoid_chemotherapy", "0", "preferences", "must be JSON true or false"),
    ("visceral_crisis", '"false"', "", "must be JSON true or false"),
])
def test_wrong_json_types_are_refused_not_coerced(client, name, raw, parent, rule):
    """A clinical fact is never read out of a string, a word or 0/1: 422 naming the field and the rule."""
    r = post_raw(client, with_field(name, raw, parent))
    assert r.status_code == 422, r.text[:300]
    field = f"{parent}.{name}" if parent else name
    match = [e for e in r.json()["errors"] if e["field"] == field]
    assert match and rule in match[0]["rule"], r.json()


def test_exact_types_are_accepted(client):
    """The same fields with exact JSON types are answered (an integer is a valid JSON number)."""
    r = post_raw(client, with_field("qtcf_ms", "450", ""))
    assert r.status_code == 200


def test_strict_types_apply_to_python_rows_too():
    """Cohort rows and FHIR imports validate plain Python values through the same models: strict there too."""
    from mbcpath.domain.validation import parse_patient
    from mbcpath.errors import InputError

    p = case(SEED)
    p["pregnant"] = "yes"
    with pytest.raises(InputError, match="pregnant"):
        parse_patient(p)


# --------------------------------------------------------------------------- duplicate keys (finding 3)
@pytest.mark.parametrize(("raw_pair", "field"), [
    ('"pregnant": true, "pregnant": false', "pregnant"),
    ('"ild_history": "active", "ild_history": "none"', "ild_history"),
])
def test_duplicate_keys_are_refused_naming_the_key(client, raw_pair, field):
    """A duplicated safety field is refused (422, the key named), instead of the last value silently winning."""
    text = json.dumps(case(SEED))
    text = "{" + raw_pair + ", " + text[1:]
    r = post_raw(client, text)
    assert r.status_code == 422, r.text[:300]
    errors = r.json()["errors"]
    assert errors[0]["field"] == field
    assert "duplicate key" in errors[0]["rule"]


def test_duplicate_keys_are_found_at_any_depth(client):
    """A duplicate inside a nested object (her2) or a list item (treatments[0]) is named by its path."""
    p = case("second-line-after-thp")
    text = json.dumps(p)
    text = text.replace('"her2": {', '"her2": {"ihc": "0", ', 1)
    text = text.replace('"setting": "metastatic"', '"setting": "metastatic", "setting": "adjuvant"', 1)
    r = post_raw(client, text)
    assert r.status_code == 422
    got = {e["field"] for e in r.json()["errors"]}
    assert {"her2.ihc", "treatments[0].setting"} <= got, got


def test_duplicate_keys_in_the_cli(tmp_path):
    """The CLI refuses the same file with exit 2 and one line naming the key."""
    text = "{" + '"pregnant": true, "pregnant": false, ' + json.dumps(case(SEED))[1:]
    f = tmp_path / "dup.json"
    f.write_text(text)
    res = subprocess.run([sys.executable, "-m", "mbcpath.cli.main", "recommend", str(f)], capture_output=True,
                         text=True, cwd=ROOT, check=False)
    assert res.returncode == 2
    assert "pregnant" in res.stderr and "duplicate key" in res.stderr


# --------------------------------------------------------------------------- invalid text (finding 1)
@pytest.mark.parametrize("path", [API, "/api/v1/projections"])
@pytest.mark.parametrize("raw", ['"\\ud800"', '"ok\\udfffok"', '"a\\u0000b"'])
def test_lone_surrogates_give_422_never_500(client, path, raw):
    """A lone surrogate or NUL in a string is 422 naming the field; the body never echoes un-encodable text."""
    r = post_raw(client, with_field("id", raw), path)
    assert r.status_code == 422, r.text[:300]
    assert r.headers["content-type"].startswith(PROBLEM)
    r.content.decode("utf-8")  # the answer itself is valid UTF-8
    err = r.json()["errors"][0]
    assert err["field"] == "id" and "invalid text" in err["rule"]
    assert "\\u" in err["value"]  # shown as an escape, not as the character


def test_lone_surrogate_in_a_key_or_unknown_field(client):
    """A surrogate in a key (an unknown field) is refused too, and the path is printable."""
    text = json.dumps(case(SEED))
    r = post_raw(client, '{"x\\udc00y": 1, ' + text[1:])
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "x\\udc00y"


def test_valid_surrogate_pairs_are_text(client):
    """A proper pair (an emoji) is ordinary text and is accepted."""
    r = post_raw(client, with_field("id", '"case \\ud83d\\ude00"'))
    assert r.status_code == 200
    assert r.json()["patient_id"] == "case \U0001F600"


def test_lone_surrogate_in_the_form_json(client):
    """The form's pasted JSON goes through the same check: an HTML 422, never a 500."""
    r = client.post("/patient/json", data={"patient_json": with_field("id", '"\\ud800"')},
                    headers={"accept": "text/html"})
    assert r.status_code == 422
    assert "invalid text" in r.text


def test_duplicate_keys_in_the_form_json(client):
    """The form's pasted JSON refuses duplicate keys like the API."""
    text = "{" + '"pregnant": true, "pregnant": false, ' + json.dumps(case(SEED))[1:]
    r = client.post("/patient/json", data={"patient_json": text}, headers={"accept": "text/html"})
    assert r.status_code == 422
    assert "duplicate key" in r.text


def test_surrogate_in_the_cli(tmp_path):
    """The CLI refuses a lone surrogate with exit 2 naming the field."""
    f = tmp_path / "s.json"
    f.write_text(with_field("id", '"\\ud800"'))
    res = subprocess.run([sys.executable, "-m", "mbcpath.cli.main", "recommend", str(f), "--format", "json"],
                         capture_output=True, text=True, cwd=ROOT, check=False)
    assert res.returncode == 2 and "id" in res.stderr and "invalid text" in res.stderr


# --------------------------------------------------------------------------- content types (finding 6)
def test_missing_content_type_is_415(client):
    """A body without Content-Type is not guessed to be JSON."""
    r = client.post(API, content=json.dumps(case(SEED)).encode(), headers={"content-type": ""})
    assert r.status_code == 415
    assert r.headers["content-type"].startswith(PROBLEM)
    assert "no Content-Type" in r.json()["detail"]


def test_errors_are_documented_as_problem_json(client):
    """Every 4xx/5xx of every operation is documented as application/problem+json with the Problem schema
    (CDS Hooks answers errors as FHIR OperationOutcome resources, and documents them so)."""
    spec = client.get("/openapi.json").json()
    seen = 0
    for path, ops in spec["paths"].items():
        if path.startswith("/cds-services"):
            assert all("application/fhir+json" in e["content"] for op in ops.values()
                       for s, e in op["responses"].items() if s[0] in "45")
            continue
        for op in ops.values():
            for status, entry in op["responses"].items():
                if status[0] in "45":
                    seen += 1
                    assert list(entry["content"]) == [PROBLEM], (status, entry)
                    assert entry["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert seen >= 10
    post = spec["paths"][API]["post"]["responses"]
    assert {"400", "413", "415", "422", "503", "504"} <= set(post)


def test_api_bytes_equal_cli_bytes(client):
    """The API's body is byte for byte what `mbcpath recommend --format json` prints for the same patient."""
    path = CASES / f"{SEED}.json"
    res = subprocess.run([sys.executable, "-m", "mbcpath.cli.main", "recommend", str(path), "--format", "json"],
                         capture_output=True, cwd=ROOT, check=True)
    api = post_raw(client, json.dumps(case(SEED))).content
    assert api == res.stdout


# --------------------------------------------------------------------------- schema bounds (finding 4)
def _patient_schema(client) -> dict:
    return client.get("/api/v1/schema/patient").json()


def test_schema_has_no_pydantic_only_keywords(client):
    """The published schema writes bounds as minimum/maximum, never pydantic's ge/le/gt/lt."""
    text = json.dumps(_patient_schema(client))
    for word in ('"ge"', '"le"', '"gt"', '"lt"'):
        assert word not in text


def _valid_cases():
    out = []
    for p in sorted(CASES.glob("*.json")):
        doc = json.loads(p.read_text())
        if not doc["expect"].get("reject"):
            out.append(pytest.param(doc["patient"], id=p.stem))
    return out


@pytest.mark.parametrize("patient", _valid_cases())
def test_vignettes_validate_against_the_published_schema(client, patient):
    """Every answered vignette is valid under an independent JSON Schema validator (jsonschema)."""
    import jsonschema

    jsonschema.Draft202012Validator(_patient_schema(client)).validate(patient)


OUT_OF_RANGE = [
    ("ecog", 5, ""), ("ecog", -1, ""), ("er_percent", 100.5, ""), ("pr_percent", -0.1, ""),
    ("lvef_percent", 95, ""), ("lvef_baseline_percent", 4, ""), ("qtcf_ms", 900, ""), ("qtcf_ms", 200, ""),
    ("neuropathy_grade", 5, ""), ("age_years", 17, ""), ("age_years", 111, ""),
    ("metastatic_diagnosis_months_ago", -1, ""), ("metastatic_diagnosis_months_ago", 601, ""),
    ("pregnancy_trimester", 4, ""), ("bilirubin_x_uln", 101, "hepatic"),
]


@pytest.mark.parametrize(("name", "value", "parent"), OUT_OF_RANGE)
def test_out_of_range_values_fail_the_schema_and_the_api(client, name, value, parent):
    """Each bound the API enforces is in the published schema: jsonschema refuses what the API refuses."""
    import jsonschema

    p = case(SEED)
    (p.setdefault(parent, {}) if parent else p)[name] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(_patient_schema(client)).validate(p)
    assert client.post(API, json=p).status_code == 422


@pytest.mark.parametrize(("name", "value"), [("line", 0), ("line", 21), ("started_months_ago", -2),
                                             ("cycles", 0), ("ended_months_ago", 700)])
def test_treatment_bounds_are_in_the_schema(client, name, value):
    """Bounds of treatment fields (line, months, cycles) are in the schema too."""
    import jsonschema

    p = case("second-line-after-thp")
    p["treatments"][0][name] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(_patient_schema(client)).validate(p)
    assert client.post(API, json=p).status_code == 422


def test_every_number_and_boolean_of_the_contract_is_strict():
    """Every int, float and bool anywhere in the patient model is strict, so a field added later without the
    Int / Float / Bool aliases (domain/patient.py) fails here instead of coercing silently."""
    from mbcpath.domain.patient import Patient

    loose: list[str] = []

    def walk(node, path):
        if isinstance(node, dict):
            if node.get("type") in ("int", "float", "bool") and not node.get("strict"):
                loose.append(path)
            for k, v in node.items():
                walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk(Patient.__pydantic_core_schema__, "Patient")
    assert loose == []
