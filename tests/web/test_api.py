"""REST API (/api/v1): every route, its contract, and its errors as problem details."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import case, case_doc

PROBLEM = "application/problem+json"
SEED = "seed-01-first-line"


def assert_problem(r, status: int, slug: str | None = None) -> dict:
    """The response is RFC 9457 problem details with this status."""
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    if slug:
        assert body["type"] == f"/docs#problem-{slug}"
    return body


def fields(body: dict) -> list[str]:
    return [e["field"] for e in body.get("errors", [])]


# --------------------------------------------------------------------------- health
@pytest.mark.parametrize("path", ["/healthz", "/api/v1/healthz"])
def test_healthz(client, path):
    """Liveness answers ok with the version, versioned and unversioned."""
    r = client.get(path)
    assert r.status_code == 200
    from mbcpath import __version__

    assert r.json() == {"status": "ok", "version": __version__, "audit": "off"}


# --------------------------------------------------------------------------- recommendations
def test_recommendation_follows_the_contract(client, kb):
    """A valid patient gives the contract's recommendation: ranked options, components with 'class'."""
    r = client.post("/api/v1/recommendations", json=case(SEED))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    rec = r.json()
    for key in ("patient_id", "kb_release", "engine_version", "decision_point", "out_of_scope", "options",
                "excluded", "conflicts", "missing_data"):
        assert key in rec
    assert rec["kb_release"] == kb.release.kb_release
    assert rec["decision_point"] == "first_line"
    assert [o["rank"] for o in rec["options"]] == list(range(1, len(rec["options"]) + 1))
    comp = rec["options"][0]["components"][0]
    assert "class" in comp and "drug_class" not in comp
    assert all(o["evidence"] for o in rec["options"])


def test_recommendation_matches_the_cli_engine(client, kb):
    """The API returns exactly what the engine returns for the same patient."""
    from mbcpath import recommend
    from mbcpath.domain.validation import parse_patient

    expected = recommend(parse_patient(case(SEED)), kb).model_dump(mode="json", by_alias=True)
    assert client.post("/api/v1/recommendations", json=case(SEED)).json() == expected


def test_recommendation_is_deterministic(client):
    """The same input gives byte-identical JSON."""
    a = client.post("/api/v1/recommendations", json=case(SEED)).content
    b = client.post("/api/v1/recommendations", json=case(SEED)).content
    assert a == b


def test_recommendation_accepts_an_example_file(client):
    """A vignette/example file {id, patient, expect} is unwrapped to its patient."""
    r = client.post("/api/v1/recommendations", json=case_doc(SEED))
    assert r.status_code == 200
    assert r.json()["patient_id"] == SEED


@pytest.mark.parametrize("name", ["low-lvef-first-line", "third-line-active-brain-metastases",
                                  "her2-negative-out-of-scope", "seed-03-isolated-cns-progression"])
def test_recommendation_for_vignettes(client, name):
    """Vignettes come back 200 with the expected decision point or out-of-scope reason."""
    doc = case_doc(name)
    rec = client.post("/api/v1/recommendations", json=doc["patient"]).json()
    if "decision_point" in doc["expect"]:
        assert rec["decision_point"] == doc["expect"]["decision_point"]
    if doc["expect"].get("out_of_scope"):
        assert rec["out_of_scope"] and rec["options"] == []


@pytest.mark.parametrize(("name", "field", "words"), [
    ("invalid-unknown-drug", "treatments[0].drugs[0]", "did you mean: trastuzumab"),
    ("invalid-er-percent", "er_percent", "less than or equal to 100"),
    ("invalid-treatment-times", "treatments[0].ended_months_ago", "ends before the treatment started"),
])
def test_invalid_vignettes_give_422_naming_the_field(client, name, field, words):
    """Contract violations are 422 problem details naming the field path, the value and the rule."""
    body = assert_problem(client.post("/api/v1/recommendations", json=case(name)), 422, "invalid-input")
    match = [e for e in body["errors"] if e["field"] == field]
    assert match, body
    assert words in match[0]["rule"]
    assert field in body["detail"]


def test_missing_required_field(client):
    """A missing required field is named with the rule 'required field is missing'."""
    p = case(SEED)
    del p["age_years"]
    body = assert_problem(client.post("/api/v1/recommendations", json=p), 422)
    assert {"field": "age_years", "value": None, "rule": "required field is missing"} in body["errors"]


@pytest.mark.parametrize(("field", "value", "path"), [
    ("age_years", "fifty", "age_years"),
    ("age_years", 10**100, "age_years"),
    ("age_years", 1e308, "age_years"),
    ("her2", "3+", "her2"),
    ("treatments", {"drugs": ["docetaxel"]}, "treatments"),
    ("metastatic_sites", "bone", "metastatic_sites"),
    ("metastatic_sites", ["bone", "moon"], "metastatic_sites[1]"),
    ("ecog", "zero", "ecog"),
    ("ecog", 2.5, "ecog"),
    ("lvef_percent", [62], "lvef_percent"),
    ("unknown_field", 1, "unknown_field"),
])
def test_wrong_types_give_422(client, field, value, path):
    """Wrong types and out-of-range values are 422 with the field path, never 500."""
    p = case(SEED)
    p[field] = value
    body = assert_problem(client.post("/api/v1/recommendations", json=p), 422, "invalid-input")
    assert path in fields(body), body


def test_huge_values_are_shortened_in_errors(client):
    """An offending value is echoed shortened, not in full."""
    p = case(SEED)
    p["id"] = "x" * 5000
    body = assert_problem(client.post("/api/v1/recommendations", json=p), 422)
    err = next(e for e in body["errors"] if e["field"] == "id")
    assert len(err["value"]) < 300


@pytest.mark.parametrize("raw", [
    b"{", b"{'age_years': 56}", b"not json", b"", b"   ", b'{"age_years": NaN}', b'{"age_years": Infinity}',
    b"\xff\xfe\x00", b'{"age_years": 1' + b"0" * 5000 + b"}",
    b"[" * 50_000 + b"]" * 50_000,
])
def test_malformed_json_is_400(client, raw):
    """Bodies that are not JSON we can parse are 400 problem details, never 500."""
    r = client.post("/api/v1/recommendations", content=raw, headers={"content-type": "application/json"})
    body = assert_problem(r, 400, "malformed-json")
    assert len(body["detail"]) < 300


@pytest.mark.parametrize("payload", [b"[]", b'"patient"', b"42", b"null", b'[{"age_years": 56}]'])
def test_non_object_json_is_422(client, payload):
    """JSON that is not an object is 422 naming the root."""
    r = client.post("/api/v1/recommendations", content=payload, headers={"content-type": "application/json"})
    body = assert_problem(r, 422)
    assert fields(body) == ["(root)"]


def test_deeply_nested_junk_is_rejected(client):
    """Deeply nested objects inside a patient are 400/422, never 500."""
    depth = 20_000
    junk = '{"a": ' * depth + "1" + "}" * depth
    text = json.dumps(case(SEED))[:-1] + ', "preferences": ' + junk + "}"
    r = client.post("/api/v1/recommendations", content=text.encode(), headers={"content-type": "application/json"})
    assert r.status_code in (400, 422)
    assert r.headers["content-type"].startswith(PROBLEM)


def test_wrong_media_type_is_415(client):
    """A body declared as another media type is refused with 415."""
    r = client.post("/api/v1/recommendations", content=json.dumps(case(SEED)), headers={"content-type": "text/plain"})
    assert_problem(r, 415, "unsupported-media-type")


def test_oversized_body_is_413(client):
    """A body over the default 256 KiB limit is refused with 413 before it is parsed."""
    p = case(SEED)
    p["id"] = "x" * (300 * 1024)
    body = assert_problem(client.post("/api/v1/recommendations", json=p), 413, "body-too-large")
    assert "262144" in body["detail"]


def test_oversized_chunked_body_is_413(client):
    """A chunked body without Content-Length is counted as it streams."""

    def chunks():
        yield b'{"id": "'
        for _ in range(40):
            yield b"x" * 10_000
        yield b'"}'

    r = client.post("/api/v1/recommendations", content=chunks(), headers={"content-type": "application/json"})
    assert_problem(r, 413, "body-too-large")


def test_body_limit_is_configurable(make_client):
    """MBCPATH_WEB_MAX_BODY_BYTES (Settings.max_body_bytes) sets the limit."""
    c = make_client(max_body_bytes=2048)
    p = case(SEED)
    assert c.post("/api/v1/recommendations", json=p).status_code == 200
    p["id"] = "x" * 4096
    assert_problem(c.post("/api/v1/recommendations", json=p), 413)


def test_wrong_method_is_405(client):
    """GET on a POST route is 405 problem details with an Allow header."""
    r = client.get("/api/v1/recommendations")
    assert_problem(r, 405, "method-not-allowed")
    assert "POST" in r.headers["allow"]


def test_unknown_route_is_404(client):
    """An unknown API path is 404 problem details."""
    assert_problem(client.get("/api/v1/nothing-here"), 404, "not-found")


# --------------------------------------------------------------------------- property: never 500
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)
_FIELDS = [*sorted(case(SEED).keys()), "treatments", "preferences", "gate_overrides", "unavailable_drugs"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(_FIELDS), value=_json)
def test_junk_in_any_field_never_gives_500(client, field, value):
    """Any JSON value in any field gives 200 or 422, never a server error."""
    p = case(SEED)
    p[field] = value
    r = client.post("/api/v1/recommendations", json=p)
    assert r.status_code in (200, 422), r.text[:300]
    if r.status_code == 422:
        assert r.json()["errors"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_json)
def test_junk_treatment_never_gives_500(client, value):
    """Junk inside a treatment row gives 200 or 422, naming a treatments[...] path."""
    p = case("seed-03-isolated-cns-progression")
    p["treatments"][0] = value
    r = client.post("/api/v1/recommendations", json=p)
    assert r.status_code in (200, 422), r.text[:300]


# --------------------------------------------------------------------------- projections
def test_projections(client):
    """POST /projections: 200 JSON where the survival module exists, else 503 naming what is missing."""
    import importlib.util

    r = client.post("/api/v1/projections", json=case(SEED))
    if importlib.util.find_spec("mbcpath.survival.projection") is None:
        assert_problem(r, 503, "not-available")
    else:
        assert r.status_code == 200, r.text[:500]
        assert r.headers["content-type"] == "application/json"
        assert isinstance(r.json(), dict)


def test_projections_validate_the_patient(client):
    """Projections validate like recommendations."""
    body = assert_problem(client.post("/api/v1/projections", json=case("invalid-er-percent")), 422)
    assert "er_percent" in fields(body)


# --------------------------------------------------------------------------- trials, regimens, kb, schema
def test_trials_list(client, kb):
    """GET /trials lists every trial with its summary."""
    body = client.get("/api/v1/trials").json()
    assert body["count"] == len(kb.trials) == len(body["trials"])
    assert body["kb_release"] == kb.release.kb_release
    t = next(t for t in body["trials"] if t["id"] == "CLEOPATRA")
    assert t["randomized"] is True and t["phase"] == "III" and t["url"] == "/api/v1/trials/CLEOPATRA"


@pytest.mark.parametrize(("q", "expected"), [("db09", "DESTINY-Breast09"), ("cleopatra", "CLEOPATRA"),
                                             ("NCT00567190", "CLEOPATRA"), ("palbociclib", "PATINA")])
def test_trials_search(client, q, expected):
    """?q= finds trials by abbreviation, name, NCT number or drug, case-insensitively."""
    ids = [t["id"] for t in client.get("/api/v1/trials", params={"q": q}).json()["trials"]]
    assert expected in ids


def test_trials_search_without_match(client):
    """A search that matches nothing is an empty list, not an error."""
    body = client.get("/api/v1/trials", params={"q": "zzzz-no-such-trial"}).json()
    assert body == {**body, "count": 0, "trials": []}


def test_trials_search_too_long_is_422(client):
    """A query over 200 characters is 422 naming the query parameter."""
    body = assert_problem(client.get("/api/v1/trials", params={"q": "x" * 201}), 422)
    assert fields(body) == ["query.q"]


def test_trial_by_id_or_alias(client, kb):
    """GET /trials/{id} resolves ids and aliases case-insensitively and resolves every cited source."""
    t = next(t for t in kb.trials.values() if t.aliases)
    for name in (t.id, t.id.lower(), t.aliases[0], t.aliases[0].upper()):
        body = client.get(f"/api/v1/trials/{name}").json()
        assert body["trial"]["id"] == t.id
    body = client.get("/api/v1/trials/cleopatra").json()
    assert set(body["trial"]["sources"]) <= set(body["sources"])
    assert all("url" in s or "citation" in s for s in body["sources"].values())


def test_unknown_trial_is_404(client):
    """An unknown trial id is 404 problem details saying where the list is."""
    body = assert_problem(client.get("/api/v1/trials/NO-SUCH-TRIAL"), 404, "not-found")
    assert "/api/v1/trials" in body["detail"]


def test_regimens(client, kb):
    """GET /regimens lists every regimen; GET /regimens/{id} returns one; unknown is 404."""
    body = client.get("/api/v1/regimens").json()
    assert body["count"] == len(kb.regimens)
    assert [r["id"] for r in body["regimens"]] == sorted(kb.regimens)
    thp = client.get("/api/v1/regimens/thp").json()
    assert thp["id"] == "thp" and thp["components"] and thp["safety"]["sources"]
    assert_problem(client.get("/api/v1/regimens/nope"), 404)


def test_kb_summary(client, kb):
    """GET /kb gives the release and verified/unverified counts that add up."""
    body = client.get("/api/v1/kb").json()
    assert body["kb_release"] == kb.release.kb_release
    assert body["counts"]["trials"] == len(kb.trials)
    assert body["sources_verified"] + body["sources_unverified"] == len(kb.sources) == body["counts"]["sources"]
    assert sum(body["sources_by_kind"].values()) == len(kb.sources)


def test_patient_schema(client):
    """GET /schema/patient is the Patient JSON Schema."""
    from mbcpath.domain.patient import Patient

    body = client.get("/api/v1/schema/patient").json()
    assert body == Patient.model_json_schema()
    assert {"age_years", "her2", "treatments"} <= body["properties"].keys()
    assert client.get("/api/v1/schema/recommendation").json()["title"] == "Recommendation"


def test_openapi_documents_every_route(client):
    """/openapi.json lists every API route and references the Patient schema for POST bodies."""
    spec = client.get("/openapi.json").json()
    for path in ("/api/v1/recommendations", "/api/v1/projections", "/api/v1/trials", "/api/v1/trials/{trial_id}",
                 "/api/v1/regimens", "/api/v1/kb", "/api/v1/schema/patient", "/api/v1/healthz"):
        assert path in spec["paths"], path
    body = spec["paths"]["/api/v1/recommendations"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"] == "#/components/schemas/Patient"
    assert "Patient" in spec["components"]["schemas"] and "Treatment" in spec["components"]["schemas"]
    assert "/patient" not in spec["paths"]  # pages are not API


# --------------------------------------------------------------------------- failures of parts
def test_engine_missing_is_503(app, client):
    """Without the engine the API says so with 503, not 500."""
    from mbcpath.web.deps import FeatureUnavailable, get_engine

    def missing():
        raise FeatureUnavailable("engine", "the decision engine cannot be imported (test)")

    app.dependency_overrides[get_engine] = missing
    try:
        body = assert_problem(client.post("/api/v1/recommendations", json=case(SEED)), 503, "not-available")
    finally:
        app.dependency_overrides.clear()
    assert "engine" in body["detail"]


def test_internal_error_hides_details_and_logs_no_message(app, client, caplog):
    """A bug is a 500 problem without its message, and the log carries the type, not the message."""
    from mbcpath.web.deps import get_engine

    def broken():
        def engine(patient, kb):
            raise RuntimeError(f"failed for {patient.id}")
        return engine

    app.dependency_overrides[get_engine] = broken
    try:
        with caplog.at_level(logging.DEBUG):
            r = client.post("/api/v1/recommendations", json=dict(case(SEED), id="PRIVATE-0042"))
    finally:
        app.dependency_overrides.clear()
    assert_problem(r, 500, "internal-error")
    assert "PRIVATE-0042" not in r.text
    assert "RuntimeError" in caplog.text and "PRIVATE-0042" not in caplog.text


def test_patient_data_is_not_logged(client, caplog):
    """Nothing of the request body reaches the logs (valid or invalid input)."""
    p = case(SEED)
    p["id"] = "MARKER-7d1f"
    bad = dict(p, er_percent=150)
    with caplog.at_level(logging.DEBUG):
        client.post("/api/v1/recommendations", json=p)
        client.post("/api/v1/recommendations", json=bad)
    assert "MARKER-7d1f" not in caplog.text


# --------------------------------------------------------------------------- headers, CORS
def test_security_headers_on_api_and_errors(client):
    """Every response carries CSP, nosniff, no-referrer, DENY, Permissions-Policy; API answers are no-store."""
    for r in (client.get("/api/v1/kb"), client.get("/api/v1/nothing"), client.post("/api/v1/recommendations", json=[])):
        h = r.headers
        assert "script-src 'self'" in h["content-security-policy"]
        assert "unsafe-inline" not in h["content-security-policy"].split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
        assert h["x-frame-options"] == "DENY"
        assert "camera=()" in h["permissions-policy"]
        assert h["cache-control"] == "no-store"


def test_413_response_has_security_headers(client):
    """Even the early 413 (sent by middleware) has the security headers."""
    r = client.post("/api/v1/recommendations", content=b"x" * (300 * 1024),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.headers["x-frame-options"] == "DENY"


def test_cors_is_off_by_default(client):
    """No CORS headers unless an allow-list is configured."""
    r = client.get("/api/v1/kb", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    pre = client.options("/api/v1/recommendations", headers={
        "origin": "https://evil.example", "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in pre.headers


def test_cors_allow_list(make_client):
    """With MBCPATH_WEB_CORS_ORIGINS only the listed origins are allowed."""
    c = make_client(cors_origins="https://ehr.example.org")
    ok = c.get("/api/v1/kb", headers={"origin": "https://ehr.example.org"})
    assert ok.headers["access-control-allow-origin"] == "https://ehr.example.org"
    other = c.get("/api/v1/kb", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
