"""The audit trail (issue 9): one hash-chained line per answer, no patient data unless configured, and an
answer re-derived from its record and its input."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from .conftest import case, examples_dir

SEED = "seed-01-first-line"
API = "/api/v1/recommendations"
FIELDS = {"v", "seq", "time", "kind", "route", "caller", "request_id", "kb_release", "engine_version", "as_of",
          "input_sha256", "output_sha256", "prev"}


def _client(**overrides) -> TestClient:
    from mbcpath.web import create_app
    from mbcpath.web.settings import Settings

    return TestClient(create_app(Settings(examples_dir=examples_dir(), **overrides)))


def test_every_answer_is_recorded_without_patient_data(tmp_path):
    """Each answer adds one line with the release, the engine version and hashes, and nothing of the patient."""
    from mbcpath.domain.wire import sha256_hex

    path = tmp_path / "audit.jsonl"
    p = case(SEED)
    p["id"] = "MRN-0042-do-not-log"
    with _client(audit_path=path) as client:
        r1 = client.post(API, json=p)
        r2 = client.post(API, json=case("low-lvef-first-line"))
        bad = client.post(API, json={"age_years": "56"})
    assert r1.status_code == r2.status_code == 200 and bad.status_code == 422
    lines = path.read_bytes().splitlines()
    assert len(lines) == 2  # refused input is not an answer
    rec = json.loads(lines[0])
    assert set(rec) == FIELDS
    assert rec["output_sha256"] == sha256_hex(r1.content)
    assert rec["kb_release"] == r1.json()["kb_release"] and rec["engine_version"] == r1.json()["engine_version"]
    assert rec["route"] == f"POST {API}" and rec["caller"] == "anonymous" and rec["kind"] == "recommendation"
    assert rec["request_id"] == r1.headers["x-request-id"]
    assert r1.headers["x-mbcpath-audit"] == "recorded; seq=1"
    assert b"MRN-0042" not in path.read_bytes()


def test_records_are_hash_chained_and_tampering_is_found(tmp_path):
    """`prev` chains the lines; an edited line breaks the chain at the next line."""
    from mbcpath.errors import AuditError
    from mbcpath.web.audit import verify_chain

    path = tmp_path / "audit.jsonl"
    with _client(audit_path=path) as client:
        for _ in range(3):
            client.post(API, json=case(SEED))
    assert verify_chain(path) == 3
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"caller":"anonymous"', '"caller":"someone-else"')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AuditError, match="line 3: prev does not match"):
        verify_chain(path)


def test_answer_is_rederived_from_its_record_and_input(tmp_path):
    """From the audit record and the input the caller kept, the same bytes are computed again and match."""
    from mbcpath.domain.wire import sha256_hex
    from mbcpath.web.audit import read_records, rederive

    path = tmp_path / "audit.jsonl"
    raw = json.dumps(case(SEED), indent=1).encode()  # formatting differs from the canonical form
    with _client(audit_path=path) as client:
        served = client.post(API, content=raw, headers={"content-type": "application/json"}).content
    (_, record), = list(read_records(path))
    again = rederive(record, raw)
    assert again == served and sha256_hex(again) == record["output_sha256"]


def test_rederive_refuses_another_input(tmp_path):
    """A different input does not match the record's input hash."""
    from mbcpath.errors import AuditError
    from mbcpath.web.audit import read_records, rederive

    path = tmp_path / "audit.jsonl"
    with _client(audit_path=path) as client:
        client.post(API, json=case(SEED))
    (_, record), = list(read_records(path))
    other = case(SEED)
    other["ecog"] = 2 if other.get("ecog") != 2 else 1
    with pytest.raises(AuditError, match="input_sha256 differs"):
        rederive(record, json.dumps(other))


def test_input_is_kept_only_when_configured(tmp_path):
    """With audit_include_input the canonical input is in the record (and hashes to input_sha256)."""
    from mbcpath.domain.wire import sha256_hex

    path = tmp_path / "audit.jsonl"
    with _client(audit_path=path, audit_include_input=True) as client:
        client.post(API, json=case(SEED))
    rec = json.loads(path.read_text())
    assert sha256_hex(rec["input"].encode()) == rec["input_sha256"]
    assert json.loads(rec["input"])["age_years"] == case(SEED)["age_years"]


def test_caller_is_the_api_key_id(tmp_path):
    """With API keys the record names the key's id, never the key."""
    from mbcpath.web.security import new_key

    key, entry = new_key("tumour-board")
    path = tmp_path / "audit.jsonl"
    with _client(audit_path=path, api_keys=(entry,)) as client:
        assert client.post(API, json=case(SEED), headers={"authorization": f"Bearer {key}"}).status_code == 200
    text = path.read_text()
    assert json.loads(text)["caller"] == "tumour-board" and key not in text


def test_projections_are_recorded(tmp_path):
    """Projections are answers too: recorded with their own kind."""
    pytest.importorskip("lifelines")
    path = tmp_path / "audit.jsonl"
    with _client(audit_path=path, projection_processes=0) as client:
        r = client.post("/api/v1/projections", json=case(SEED))
    assert r.status_code == 200
    assert json.loads(path.read_text())["kind"] == "projection"
