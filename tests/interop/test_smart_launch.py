"""SMART App Launch against a real local FHIR server (Medplum's FHIR router from npm, tools/fhir-server).

The authorization server is a test double (a small ASGI app on loopback) that checks PKCE S256. The FHIR
server is real: it stores the generated bundle (a transaction) and answers the app's searches with a bearer
token check. ``make setup`` installs it; a missing install is a failure that says so, not a skip.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
import warnings
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

from conftest import load_case, vignette_files
from mbcpath.interop.generator import Style, patient_to_bundle

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "tools" / "fhir-server"
TOKEN = "test-access-token"
PATIENT = "smart-patient-1"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AuthDouble:
    """An authorization server double: /authorize redirects with a code, /token checks the PKCE verifier."""

    def __init__(self) -> None:
        self.port = _port()
        self.codes: dict[str, dict[str, str]] = {}
        self.base = f"http://127.0.0.1:{self.port}"

    def app(self):
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse, RedirectResponse
        from starlette.routing import Route

        async def authorize(request):
            q = request.query_params
            code = str(uuid.uuid4())
            self.codes[code] = dict(q)
            return RedirectResponse(f"{q['redirect_uri']}?code={code}&state={q['state']}", status_code=302)

        async def token(request):
            form = await request.form()
            sent = self.codes.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier") or "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if sent is None or sent["code_challenge"] != challenge or sent["code_challenge_method"] != "S256":
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            return JSONResponse({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300,
                                 "scope": sent["scope"], "patient": PATIENT})

        return Starlette(routes=[Route("/authorize", authorize), Route("/token", token, methods=["POST"])])

    def start(self) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="error"))
        threading.Thread(target=self.server.run, daemon=True).start()
        _wait(self.base + "/token", method="post")


def _wait(url: str, method: str = "get", timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            httpx.request(method, url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


@pytest.fixture(scope="module")
def auth_server():
    double = AuthDouble()
    double.start()
    yield double
    double.server.should_exit = True


@pytest.fixture(scope="module")
def fhir_server(auth_server):
    """The real FHIR server, loaded with a generated mCODE bundle for one patient (a FHIR transaction)."""
    node = shutil.which("node")
    if node is None or not (SERVER / "node_modules" / "@medplum" / "fhir-router").is_dir():
        pytest.fail("the local FHIR server is not installed: run 'make setup' (needs node and npm)")
    port = _port()
    smart = {"authorization_endpoint": auth_server.base + "/authorize", "token_endpoint": auth_server.base + "/token",
             "code_challenge_methods_supported": ["S256"], "capabilities": ["launch-ehr", "launch-standalone",
                                                                             "client-public", "context-ehr-patient"]}
    proc = subprocess.Popen([node, "server.mjs", str(port), TOKEN], cwd=SERVER, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "SMART_CONFIGURATION": json.dumps(smart)})
    base = f"http://127.0.0.1:{port}/fhir"
    try:
        _wait(base + "/.well-known/smart-configuration")
        case = load_case(next(p for p in vignette_files() if p.stem == "seed-02-maintenance-hr-positive"))
        bundle = patient_to_bundle(dict(case["patient"], id=PATIENT), date.today(), Style(bundle_type="transaction"))
        res = httpx.post(base, json=bundle, headers={"authorization": f"Bearer {TOKEN}",
                                                     "content-type": "application/fhir+json"}, timeout=30)
        assert res.status_code == 200, res.text[:500]
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture()
def client():
    from mbcpath.web.app import create_app

    with TestClient(create_app(), follow_redirects=False) as c:
        yield c


def _launch(client, query: str) -> str:
    res = client.get(f"/launch?{query}")
    assert res.status_code == 302, res.text
    auth_url = res.headers["location"]
    sent = parse_qs(urlparse(auth_url).query)
    assert sent["code_challenge_method"] == ["S256"] and len(sent["code_challenge"][0]) == 43
    back = httpx.get(auth_url, follow_redirects=False)
    callback = urlparse(back.headers["location"])
    return f"/smart/callback?{callback.query}", sent


def test_ehr_launch_reads_the_patient_and_opens_the_results(client, fhir_server):
    """EHR launch: discovery, PKCE, token, FHIR reads with the token, results page for that patient."""
    path, sent = _launch(client, f"iss={fhir_server}&launch=abc123")
    assert sent["launch"] == ["abc123"] and sent["aud"] == [fhir_server] and "launch" in sent["scope"][0].split()
    page = client.get(path)
    assert page.status_code == 200, page.text[:500]
    assert "maintenance" in page.text.lower() and PATIENT in page.text


def test_standalone_launch_works_too(client, fhir_server):
    """Standalone launch (no launch parameter) asks for launch/patient and ends on the results page."""
    path, sent = _launch(client, f"iss={fhir_server}")
    assert "launch" not in sent and "launch/patient" in sent["scope"][0].split()
    assert client.get(path).status_code == 200


def test_a_replayed_or_forged_state_is_refused(client, fhir_server):
    """The callback's state is used once; an unknown state is a 400 with the reason."""
    path, _ = _launch(client, f"iss={fhir_server}&launch=x")
    assert client.get(path).status_code == 200
    again = client.get(path)
    assert again.status_code == 400 and "state" in again.text


def test_cds_hooks_fetches_from_the_fhir_server_when_prefetch_is_missing(fhir_server, tmp_path, monkeypatch):
    """patient-view without prefetch: the service reads the record from the FHIR server with fhirAuthorization."""
    import jwt

    from interop.conftest import CDS, load
    from mbcpath.web.app import create_app

    spec = CDS / "spec-2.0.1"
    (tmp_path / "iss.json").write_text(json.dumps({"https://ehr.test/": {"jwks": load(spec / "jwks-public.json")}}))
    monkeypatch.setenv("MBCPATH_CDS_TRUSTED_ISSUERS", str(tmp_path / "iss.json"))
    key = jwt.PyJWK(load(spec / "jwk-private.json"), algorithm="ES384").key
    aud = "http://127.0.0.1:8000/cds-services/mbcpath-patient-view"
    tok = jwt.encode({"iss": "https://ehr.test/", "aud": aud, "exp": int(time.time()) + 60, "jti": str(uuid.uuid4())},
                     key, algorithm="ES384", headers={"kid": "example-kid"})
    body = {"hookInstance": str(uuid.uuid4()), "hook": "patient-view", "fhirServer": fhir_server,
            "fhirAuthorization": {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300,
                                  "scope": "patient/*.rs", "subject": "mbcpath"},
            "context": {"userId": "Practitioner/x", "patientId": PATIENT}}
    with TestClient(create_app()) as c:
        res = c.post("/cds-services/mbcpath-patient-view", json=body, headers={"authorization": f"Bearer {tok}"})
    assert res.status_code == 200, res.text
    assert res.json()["cards"][0]["summary"].startswith("HER2+ MBC, maintenance")
