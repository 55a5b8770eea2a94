"""Deployment controls (issue 9): API keys, loopback-only without them, cross-site posts, rate limits,
structured logs."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from .conftest import case, examples_dir

SEED = "seed-01-first-line"
API = "/api/v1/recommendations"


def _client(**overrides) -> TestClient:
    from mbcpath.web import create_app
    from mbcpath.web.settings import Settings

    return TestClient(create_app(Settings(examples_dir=examples_dir(), **overrides)), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def keyed():
    from mbcpath.web.security import new_key

    key, entry = new_key("lab-system")
    with _client(api_keys=(entry,)) as c:
        yield c, key


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer wrong"}, {"x-api-key": "wrong"},
                                     {"authorization": "Basic !!!"}])
def test_api_needs_a_valid_key(keyed, headers):
    """Without a valid key the API answers 401 problem details with a Bearer challenge."""
    client, _ = keyed
    r = client.post(API, json=case(SEED), headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["type"] == "/docs#problem-unauthorized"


@pytest.mark.parametrize("style", ["bearer", "x-api-key", "basic"])
def test_api_accepts_the_key(keyed, style):
    """The key works as a Bearer token, an X-API-Key header, or an HTTP Basic password (browsers)."""
    import base64

    client, key = keyed
    headers = {"bearer": {"authorization": f"Bearer {key}"}, "x-api-key": {"x-api-key": key},
               "basic": {"authorization": "Basic " + base64.b64encode(f"clinician:{key}".encode()).decode()}}[style]
    assert client.post(API, json=case(SEED), headers=headers).status_code == 200


def test_probes_and_static_stay_open(keyed):
    """Health probes and static files need no key; pages ask the browser for one (Basic)."""
    client, _ = keyed
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/healthz").status_code == 200
    assert client.get("/static/css/app.css").status_code == 200
    page = client.get("/patient", headers={"accept": "text/html"})
    assert page.status_code == 401 and page.headers["www-authenticate"].startswith("Basic")


def test_keys_are_configured_as_hashes_only():
    """A configuration entry must be 'id:sha256hex'; a raw key is refused, naming the rule."""
    from pydantic import ValidationError

    from mbcpath.web.settings import Settings

    with pytest.raises(ValidationError, match="expected 'id:<64 hex digits of SHA-256>'"):
        Settings(api_keys=("lab:not-a-hash",))


def test_open_app_without_keys_on_loopback():
    """Development: no keys configured, loopback, open (the default)."""
    with _client() as c:
        assert c.post(API, json=case(SEED)).status_code == 200


@pytest.mark.parametrize(("host", "allowed"), [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                               ("0.0.0.0", False), ("10.0.0.5", False)])
def test_non_loopback_bind_needs_keys(host, allowed):
    """serve() refuses a non-loopback address without keys (unless explicitly allowed)."""
    from mbcpath.errors import ConfigurationError
    from mbcpath.web.app import check_deployable
    from mbcpath.web.security import new_key
    from mbcpath.web.settings import Settings

    if allowed:
        check_deployable(Settings(host=host))
    else:
        with pytest.raises(ConfigurationError, match="without authentication"):
            check_deployable(Settings(host=host))
        check_deployable(Settings(host=host, api_keys=(new_key("x")[1],)))
        check_deployable(Settings(host=host, allow_unauthenticated=True))


@pytest.mark.parametrize("headers", [{"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"},
                                     {"origin": "null", "sec-fetch-site": "cross-site"},
                                     {"origin": "http://testserver", "sec-fetch-site": "cross-site"}])
def test_cross_site_posts_are_refused(headers):
    """A page on another site cannot make a browser post a patient here (403)."""
    with _client() as c:
        r = c.post(API, json=case(SEED), headers=headers)
    assert r.status_code == 403 and r.json()["type"] == "/docs#problem-forbidden"


@pytest.mark.parametrize("headers", [{"origin": "http://testserver", "sec-fetch-site": "same-origin"},
                                     {"origin": "null", "sec-fetch-site": "same-origin"}, {"origin": "null"}, {}])
def test_same_origin_posts_pass(headers):
    """The app's own pages post with their own origin; with Referrer-Policy no-referrer a browser sends
    Origin: null for its own form posts, and Fetch Metadata says same-origin."""
    with _client() as c:
        r = c.post(API, json=case(SEED), headers=headers)
    assert r.status_code == 200


def test_rate_limit_per_client():
    """Past its burst a client gets 429 with Retry-After; probes are never limited."""
    with _client(rate_limit_per_minute=60, rate_limit_burst=3) as c:
        codes = [c.get("/api/v1/kb").status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        r = c.get("/api/v1/kb")
        assert r.headers["retry-after"] == "1" and r.json()["type"] == "/docs#problem-rate-limited"
        assert c.get("/api/v1/healthz").status_code == 200


def test_token_bucket_refills():
    """Tokens come back at the configured rate (fake clock)."""
    from mbcpath.web.ratelimit import TokenBuckets

    now = [0.0]
    b = TokenBuckets(per_minute=60, burst=2, clock=lambda: now[0])
    assert [b.take("a"), b.take("a")] == [0.0, 0.0]
    assert b.take("a") == pytest.approx(1.0)
    assert b.take("b") == 0.0  # another client has its own bucket
    now[0] += 1.0
    assert b.take("a") == 0.0


def test_rate_limit_defaults():
    """Open development app: no limit; with keys: 600 a minute per key unless set."""
    from mbcpath.web.security import new_key
    from mbcpath.web.settings import Settings

    assert Settings().effective_rate_limit() == (0, 0)
    assert Settings(api_keys=(new_key("x")[1],)).effective_rate_limit() == (600, 60)
    assert Settings(rate_limit_per_minute=0, api_keys=(new_key("x")[1],)).effective_rate_limit() == (0, 0)


def test_structured_access_log_has_no_patient_data(caplog):
    """Access log lines are JSON with request id, path, status, duration and caller, and no body values."""
    from mbcpath.web.logs import JsonFormatter

    p = case(SEED)
    p["id"] = "MRN-7777"
    with _client(access_log=True) as c, caplog.at_level(logging.INFO, logger="mbcpath.web.access"):
        r = c.post(API, json=p)
    recs = [rec for rec in caplog.records if getattr(rec, "event", "") == "request"]
    assert recs
    line = json.loads(JsonFormatter().format(recs[-1]))
    assert line["path"] == API and line["status"] == 200 and line["request_id"] == r.headers["x-request-id"]
    assert {"time", "level", "duration_ms", "caller", "method"} <= set(line)
    assert "MRN-7777" not in caplog.text


def test_new_key_command(capsys):
    """`python -m mbcpath.web.security new-key NAME` prints a key and its hash entry, which authenticate."""
    from mbcpath.web.security import identify, main, parse_api_keys

    assert main(["new-key", "ward-7"]) == 0
    out = capsys.readouterr().out
    key = out.split("stored anywhere): ")[1].split()[0]
    entry = out.split("comma-separated): ")[1].split()[0]
    assert identify(parse_api_keys([entry]), key) == "ward-7"
