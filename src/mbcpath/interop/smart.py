"""SMART App Launch 2.x for the web app: EHR launch and standalone launch, authorization code with PKCE.

Flow: ``/launch?iss=<FHIR base>&launch=<token>`` (EHR launch; without ``launch`` it is a standalone
launch) -> discovery of ``{iss}/.well-known/smart-configuration`` -> redirect to its
``authorization_endpoint`` with ``state``, ``aud = iss`` and an S256 ``code_challenge`` -> ``/smart/callback``
exchanges the code (with the ``code_verifier``) at the ``token_endpoint`` -> the patient's resources are read
from the FHIR server with the access token -> the results page opens with that patient.

References
----------
HL7 SMART App Launch 2.2.0: "Launch and authorization" (EHR launch, standalone launch, PKCE S256 required,
    state, aud), "Conformance" (.well-known/smart-configuration), scopes v2 (``patient/*.rs``).
RFC 7636 (PKCE).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from mbcpath.errors import InteropError

RESOURCES = ("Patient", "Observation", "Condition", "MedicationRequest", "MedicationStatement",
             "MedicationAdministration")
SESSION_TTL_S = 600


class SmartError(InteropError):
    """A launch that cannot go on; the message says why (shown to the user with 400)."""


def pkce_pair() -> tuple[str, str]:
    """``(code_verifier, code_challenge)`` with the S256 method (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Launch:
    """What is kept between the redirect to the authorization server and the callback (server side)."""

    iss: str
    token_endpoint: str
    verifier: str
    redirect_uri: str
    created: float = field(default_factory=time.time)


@dataclass
class LaunchStore:
    """Pending launches by ``state`` (in memory, 10 minutes, used once)."""

    items: dict[str, Launch] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, launch: Launch) -> str:
        state = secrets.token_urlsafe(24)
        with self.lock:
            now = time.time()
            self.items = {k: v for k, v in self.items.items() if now - v.created < SESSION_TTL_S}
            self.items[state] = launch
        return state

    def pop(self, state: str) -> Launch:
        with self.lock:
            launch = self.items.pop(state, None)
        if launch is None or time.time() - launch.created >= SESSION_TTL_S:
            raise SmartError("unknown or expired state: start the launch again from the EHR")
        return launch


def client_id() -> str:
    return os.environ.get("MBCPATH_SMART_CLIENT_ID", "mbcpath")


def discover(iss: str) -> dict[str, Any]:
    """The EHR's ``.well-known/smart-configuration`` (must offer the code flow with PKCE S256)."""
    import httpx

    url = iss.rstrip("/") + "/.well-known/smart-configuration"
    try:
        conf = httpx.get(url, timeout=10.0, headers={"accept": "application/json"}).raise_for_status().json()
    except (httpx.HTTPError, ValueError) as err:
        raise SmartError(f"cannot read {url}: {err}") from None
    for key in ("authorization_endpoint", "token_endpoint"):
        if not isinstance(conf.get(key), str):
            raise SmartError(f"{url}: {key} is missing")
    if "S256" not in (conf.get("code_challenge_methods_supported") or []):
        raise SmartError(f"{url}: code_challenge_methods_supported lacks S256 (SMART 2.x requires PKCE S256)")
    return conf  # type: ignore[no-any-return]


def start(iss: str, launch: str | None, redirect_uri: str, store: LaunchStore) -> str:
    """The authorization URL to redirect the browser to (EHR launch when ``launch`` is given, else standalone)."""
    if not iss.startswith(("http://", "https://")):
        raise SmartError(f"iss = {iss!r}: must be the FHIR server's http(s) base URL")
    conf = discover(iss)
    verifier, challenge = pkce_pair()
    state = store.put(Launch(iss, conf["token_endpoint"], verifier, redirect_uri))
    scopes = ["openid", "fhirUser", "launch" if launch else "launch/patient",
              *(f"patient/{r}.rs" for r in RESOURCES)]
    params = {"response_type": "code", "client_id": client_id(), "redirect_uri": redirect_uri,
              "scope": " ".join(scopes), "state": state, "aud": iss, "code_challenge": challenge,
              "code_challenge_method": "S256"}
    if launch:
        params["launch"] = launch
    return f"{conf['authorization_endpoint']}?{urlencode(params)}"


def finish(code: str, state: str, store: LaunchStore) -> tuple[str, str, str]:
    """Exchange the code; return ``(iss, access_token, patient id)``."""
    import httpx

    pending = store.pop(state)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": pending.redirect_uri,
            "client_id": client_id(), "code_verifier": pending.verifier}
    try:
        token = httpx.post(pending.token_endpoint, data=form, timeout=10.0).raise_for_status().json()
    except (httpx.HTTPError, ValueError) as err:
        raise SmartError(f"token exchange failed: {err}") from None
    if not isinstance(token.get("access_token"), str) or not isinstance(token.get("patient"), str):
        raise SmartError("the token response lacks access_token or patient (launch context)")
    return pending.iss, token["access_token"], token["patient"]


def read_record(iss: str, token: str, patient_id: str) -> dict[str, Any]:
    """The patient's resources from the FHIR server, as a collection Bundle."""
    from mbcpath.interop.cds.hooks import CdsRequestError, fetch

    queries = [f"Patient/{patient_id}"] + [f"{r}?patient={patient_id}" for r in RESOURCES[1:]]
    try:
        resources = fetch(iss, token, queries)
    except CdsRequestError as err:
        raise SmartError(str(err)) from None
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
