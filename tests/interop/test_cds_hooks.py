"""CDS Hooks 2.0.1: the spec's JWT and fixtures replayed; discovery, patient-view, order-sign, feedback."""

from __future__ import annotations

import base64
import json
import time
import uuid
import warnings
from datetime import date

import jwt
import pytest

with warnings.catch_warnings():  # starlette asks for 'httpx2' instead of httpx (import-time warning only)
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

from conftest import load_case, vignette_files
from interop.conftest import CDS, load
from mbcpath.interop.cds.auth import CdsAuthError, ReplayCache, TrustedIssuers, verify
from mbcpath.interop.generator import patient_to_bundle

SPEC = CDS / "spec-2.0.1"
ISS = "https://fhir-ehr.example.com/"
BASE = "http://127.0.0.1:8000/cds-services"
CASES = {p.stem: load_case(p)["patient"] for p in vignette_files()}


@pytest.fixture(scope="module")
def private_key():
    return jwt.PyJWK(load(SPEC / "jwk-private.json"), algorithm="ES384").key


@pytest.fixture()
def issuers_file(tmp_path):
    path = tmp_path / "issuers.json"
    path.write_text(json.dumps({ISS: {"jwks": load(SPEC / "jwks-public.json")}}))
    return path


@pytest.fixture()
def client(issuers_file, monkeypatch, tmp_path):
    from mbcpath.web.app import create_app

    monkeypatch.setenv("MBCPATH_CDS_TRUSTED_ISSUERS", str(issuers_file))
    monkeypatch.setenv("MBCPATH_CDS_FEEDBACK_DB", str(tmp_path / "feedback.duckdb"))
    with TestClient(create_app()) as c:
        yield c


def token(key, aud, **claims):
    payload = {"iss": ISS, "aud": aud, "exp": int(time.time()) + 300, "iat": int(time.time()),
               "jti": str(uuid.uuid4()), **claims}
    return jwt.encode(payload, key, algorithm="ES384", headers={"kid": "example-kid"})


def auth(key, path=""):
    return {"authorization": f"Bearer {token(key, BASE + path)}"}


def test_spec_jwt_is_rejected_as_expired_and_accepted_at_its_issue_time():
    """The spec's example JWT verifies against the spec's JWKS only with the clock frozen at iat."""
    spec_token = (SPEC / "jwt-example.txt").read_text().strip()
    issuers = TrustedIssuers({ISS: {"jwks": load(SPEC / "jwks-public.json")}})
    aud = "https://cds.example.org/cds-services/some-service"
    with pytest.raises(CdsAuthError, match="expired"):
        verify(spec_token, aud, issuers)
    claims = verify(spec_token, aud, issuers, now=1311280970)
    assert claims["jti"] == "ee22b021-e1b7-4611-ba5b-8eec6a33ac1e"


def _b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_none_and_hmac_tokens_are_refused(alg):
    """alg none and HS256 are refused before any key is looked up."""
    claims = {"iss": ISS, "aud": BASE, "exp": int(time.time()) + 60, "jti": "x"}
    if alg == "none":
        forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    else:
        forged = jwt.encode(claims, "a-shared-secret-of-thirty-two-bytes!", algorithm="HS256")
    with pytest.raises(CdsAuthError, match=f"alg '{alg}' refused"):
        verify(forged, BASE, TrustedIssuers({ISS: {"jwks": load(SPEC / "jwks-public.json")}}))


def test_wrong_audience_untrusted_issuer_and_replay_are_refused(private_key):
    """aud must be the called endpoint; iss must be trusted; a jti is accepted once."""
    issuers = TrustedIssuers({ISS: {"jwks": load(SPEC / "jwks-public.json")}})
    with pytest.raises(CdsAuthError, match="aud"):
        verify(token(private_key, BASE + "/other"), BASE + "/mbcpath-patient-view", issuers)
    with pytest.raises(CdsAuthError, match="not a trusted issuer"):
        verify(token(private_key, BASE, iss="https://evil.example/"), BASE, issuers)
    replay, once = ReplayCache(), token(private_key, BASE)
    verify(once, BASE, issuers, replay)
    with pytest.raises(CdsAuthError, match="replay"):
        verify(once, BASE, issuers, replay)


def test_without_trusted_issuers_every_call_is_refused(monkeypatch, private_key, caplog):
    """No MBCPATH_CDS_TRUSTED_ISSUERS: 401 and the log says why."""
    from mbcpath.web.app import create_app

    monkeypatch.delenv("MBCPATH_CDS_TRUSTED_ISSUERS", raising=False)
    with TestClient(create_app()) as c:
        res = c.get("/cds-services", headers=auth(private_key))
    assert res.status_code == 401
    assert "MBCPATH_CDS_TRUSTED_ISSUERS is not set" in caplog.text


def test_discovery_round_trip(client, private_key):
    """Discovery lists the three services with prefetch templates, in the spec's shape."""
    assert client.get("/cds-services").status_code == 401
    body = client.get("/cds-services", headers=auth(private_key)).json()
    spec_keys = {k for s in load(SPEC / "discovery-response.json")["services"] for k in s}
    hooks = {s["hook"] for s in body["services"]}
    assert hooks == {"patient-view", "order-select", "order-sign"}
    for s in body["services"]:
        assert {"id", "hook", "title", "description"} <= set(s) <= spec_keys
        assert s["prefetch"]["patient"] == "Patient/{{context.patientId}}"


def _prefetch(case, patient_id="1288992", **changes):
    patient = dict(CASES[case], id=patient_id, **changes)
    bundle = patient_to_bundle(patient, date.today())
    resources = [e["resource"] for e in bundle["entry"]]
    by_type = {}
    for r in resources[1:]:
        by_type.setdefault(r["resourceType"], []).append({"resource": r})
    searches = {"conditions": "Condition", "observations": "Observation", "medicationStatements": "MedicationStatement",
                "medicationRequests": "MedicationRequest", "medicationAdministrations": "MedicationAdministration"}
    prefetch = {"patient": resources[0]}
    for key, rtype in searches.items():
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": by_type.get(rtype, [])}
    return prefetch


def _walk(obj):
    yield obj
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v)


def _assert_conformant(body):
    assert set(body) == {"cards"}
    for node in _walk(body):
        assert node is not None and node != [] and node != {}
    for card in body["cards"]:
        assert len(card["summary"]) < 140
        assert card["indicator"] in ("info", "warning", "critical")
        assert card["source"]["label"]
        if "suggestions" in card:
            assert card["selectionBehavior"] in ("at-most-one", "any")


def test_patient_view_round_trip_with_prefetch(client, private_key):
    """The spec's patient-view request with mbcpath's prefetch: a decision-point card with a SMART link."""
    body = load(SPEC / "patient-view-request.json")
    body["prefetch"] = _prefetch("seed-01-first-line")
    res = client.post("/cds-services/mbcpath-patient-view", json=body,
                      headers=auth(private_key, "/mbcpath-patient-view"))
    assert res.status_code == 200, res.text
    out = res.json()
    _assert_conformant(out)
    first = out["cards"][0]
    assert first["summary"].startswith("HER2+ MBC, first line: top option")
    assert any(link["type"] == "smart" and link["url"].endswith("/launch") for link in first["links"])
    assert first["suggestions"][0]["actions"][0]["resource"]["intent"] == "proposal"


def test_patient_view_shows_the_safety_stop(client, private_key):
    """LVEF 45%: besides the options, a warning card names the LVEF stop with override reasons."""
    body = load(SPEC / "patient-view-request.json")
    body["prefetch"] = _prefetch("low-lvef-first-line", lvef_percent=45)
    out = client.post("/cds-services/mbcpath-patient-view", json=body,
                      headers=auth(private_key, "/mbcpath-patient-view")).json()
    _assert_conformant(out)
    stops = [c for c in out["cards"] if c["summary"].startswith("Safety stop")]
    assert stops and "LVEF 45%" in stops[0]["summary"] and stops[0]["overrideReasons"]


def test_missing_prefetch_without_fhir_server_is_412(client, private_key):
    """No prefetch and no fhirServer/fhirAuthorization: 412 with an OperationOutcome."""
    body = {k: v for k, v in load(SPEC / "patient-view-request.json").items() if k not in ("prefetch", "fhirServer")}
    res = client.post("/cds-services/mbcpath-patient-view", json=body,
                      headers=auth(private_key, "/mbcpath-patient-view"))
    assert res.status_code == 412
    assert res.json()["resourceType"] == "OperationOutcome" and "prefetch" in res.text


def _order_sign(case, rxcui, display, **changes):
    body = {"hookInstance": str(uuid.uuid4()), "hook": "order-sign", **load(CDS / "hooks-library-1.0.1" /
                                                                            "order-sign-context-r4.json")}
    draft = body["context"]["draftOrders"]["entry"][1]["resource"]
    draft["medicationCodeableConcept"] = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                      "code": rxcui, "display": display}]}
    body["prefetch"] = _prefetch(case, **changes)
    return body


UNSAFE = [
    ("long-qtc-no-ribociclib", "1873916", "Ribociclib", {"qtcf_ms": 470}, "QTcF 470"),
    ("ild-history-first-line", "2267577", "Enhertu", {}, "ILD"),
    ("low-lvef-first-line", "1298944", "Pertuzumab", {"lvef_percent": 45}, "LVEF 45%"),
    ("pregnancy-anti-her2", "224905", "Trastuzumab", {}, "Pregnancy"),
]


@pytest.mark.parametrize(("case", "rxcui", "display", "changes", "word"), UNSAFE, ids=[u[0] for u in UNSAFE])
def test_order_sign_card_for_unsafe_drafts(client, private_key, case, rxcui, display, changes, word):
    """An unsafe drafted drug gets a critical or warning card naming the gate, with override reasons."""
    res = client.post("/cds-services/mbcpath-order-sign", json=_order_sign(case, rxcui, display, **changes),
                      headers=auth(private_key, "/mbcpath-order-sign"))
    assert res.status_code == 200, res.text
    out = res.json()
    _assert_conformant(out)
    assert out["cards"], case
    card = out["cards"][0]
    assert card["indicator"] in ("critical", "warning") and word in card["summary"] + card["detail"]
    assert {r["code"] for r in card["overrideReasons"]} >= {"recipient-disagrees-evidence"}


SAFE = [("seed-01-first-line", "2267577", "Enhertu"), ("long-qtc-no-ribociclib", "1601374", "Palbociclib"),
        ("seed-01-first-line", "617993", "Amoxicillin 120 MG/ML / clavulanate potassium 8.58 MG/ML Oral Suspension")]


@pytest.mark.parametrize(("case", "rxcui", "display"), SAFE,
                         ids=["tdxd-first-line", "palbociclib-long-qtc", "amoxicillin"])
def test_order_sign_no_card_for_safe_drafts(client, private_key, case, rxcui, display):
    """A safe draft (or a drug mbcpath does not reason about) gets {"cards": []}."""
    res = client.post("/cds-services/mbcpath-order-sign", json=_order_sign(case, rxcui, display, qtcf_ms=470)
                      if case == "long-qtc-no-ribociclib" else _order_sign(case, rxcui, display),
                      headers=auth(private_key, "/mbcpath-order-sign"))
    assert res.status_code == 200 and res.json() == {"cards": []}


def test_feedback_is_stored_and_read_back(client, private_key):
    """The spec's feedback examples are stored in DuckDB and read back, override reason and comment included."""
    path = "/cds-services/mbcpath-patient-view/feedback"
    for name in ("feedback-accepted.json", "feedback-overridden-with-reason.json"):
        res = client.post(path, json=load(SPEC / name), headers=auth(private_key, "/mbcpath-patient-view/feedback"))
        assert res.status_code == 200 and res.json() == {}
    rows = client.get(path, headers=auth(private_key, "/mbcpath-patient-view/feedback")).json()["feedback"]
    assert [r["outcome"] for r in rows] == ["accepted", "overridden"]
    assert rows[1]["reason_code"] == "d7ecf885" and rows[1]["user_comment"] == "A comment entered by the clinician."
    bad = client.post(path, json={"feedback": [{"card": "x", "outcome": "ignored", "outcomeTimestamp": "2020"}]},
                      headers=auth(private_key, "/mbcpath-patient-view/feedback"))
    assert bad.status_code == 400 and "outcome" in bad.text
