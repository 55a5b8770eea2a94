"""Faults (issue 9): a corrupt or partly edited KB stops the start-up naming file and rule, a failing reload
keeps the release already served, an unwritable or full audit trail follows the configured policy, and a
client that disconnects mid-request leaves no half-written audit line."""

from __future__ import annotations

import errno
import json
import logging
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from .conftest import case, examples_dir

ROOT = Path(__file__).resolve().parents[2]
SEED = "seed-01-first-line"
API = "/api/v1/recommendations"
GOOD_CONDITION = 'condition: "lvef_percent >= 50"'


@pytest.fixture
def kb_copy(tmp_path) -> Path:
    dest = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", dest)
    return dest


def _app(**overrides):
    from mbcpath.web import create_app
    from mbcpath.web.settings import Settings

    return create_app(Settings(examples_dir=examples_dir(), **overrides))


def _break_rule(kb: Path) -> None:
    f = kb / "decisions" / "first_line.yaml"
    text = f.read_text()
    assert GOOD_CONDITION in text
    f.write_text(text.replace(GOOD_CONDITION, 'condition: "lvef_percent >= "', 1))


# --------------------------------------------------------------------------- KB faults
def test_corrupt_rule_stops_the_start_up_naming_file_and_rule(kb_copy):
    """A rule whose condition does not parse: the app does not start, and the error names file and rule."""
    from mbcpath.errors import KnowledgeBaseError

    _break_rule(kb_copy)
    with pytest.raises(KnowledgeBaseError) as err, TestClient(_app(kb_path=kb_copy)):
        pass
    text = str(err.value)
    assert "decisions/first_line.yaml" in text
    assert "rule 'fl-tdxd-pertuzumab/lvef-50'" in text


def test_partly_edited_file_stops_the_start_up(kb_copy):
    """A file cut off mid-edit is refused with its name and the line where YAML fails."""
    from mbcpath.errors import KnowledgeBaseError

    f = kb_copy / "decisions" / "safety.yaml"
    text = f.read_text()
    f.write_text(text[: len(text) // 2] + '\n  - id: "unterminated\n')
    with pytest.raises(KnowledgeBaseError, match=r"decisions/safety\.yaml"), TestClient(_app(kb_path=kb_copy)):
        pass


def test_server_refuses_to_start_on_a_corrupt_kb(kb_copy):
    """`python -m mbcpath.web` exits 1 with one line naming file and rule, before binding a port."""
    _break_rule(kb_copy)
    res = subprocess.run([sys.executable, "-m", "mbcpath.web", "--port", "1"], capture_output=True, text=True,
                         cwd=ROOT, env={"MBCPATH_WEB_KB_PATH": str(kb_copy), "PATH": "/usr/bin:/bin"}, timeout=60,
                         check=False)
    assert res.returncode == 1
    assert "not starting" in res.stderr and "first_line.yaml" in res.stderr and "fl-tdxd-pertuzumab" in res.stderr


def test_failed_reload_keeps_serving_the_loaded_release(kb_copy):
    """After a reload of a broken KB the server still answers from the release it loaded; a good reload
    switches to the new release."""
    from mbcpath.web.app import reload_kb

    app = _app(kb_path=kb_copy)
    with TestClient(app) as client:
        before = client.post(API, json=case(SEED))
        assert before.status_code == 200
        release = before.json()["kb_release"]
        _break_rule(kb_copy)
        assert reload_kb(app) is False
        after = client.post(API, json=case(SEED))
        assert after.status_code == 200 and after.content == before.content
        good = (ROOT / "kb" / "decisions" / "first_line.yaml").read_text()
        (kb_copy / "decisions" / "first_line.yaml").write_text(good)
        rel = kb_copy / "release.yaml"
        rel.write_text(rel.read_text().replace(f'kb_release: "{release}"', 'kb_release: "9999.1.0"'))
        assert reload_kb(app) is True
        assert client.post(API, json=case(SEED)).json()["kb_release"] == "9999.1.0"


# --------------------------------------------------------------------------- audit faults
@pytest.fixture
def unwritable(tmp_path) -> Path:
    """An audit path that cannot be written: its parent is a file."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    return blocker / "audit.jsonl"


def test_unwritable_audit_refuses_by_policy(unwritable):
    """Policy 'refuse': no answer without its record (503 audit-unavailable), and /healthz says failing."""
    with TestClient(_app(audit_path=unwritable, audit_policy="refuse"), raise_server_exceptions=False) as client:
        r = client.post(API, json=case(SEED))
        assert r.status_code == 503
        assert r.json()["type"] == "/docs#problem-audit-unavailable"
        assert "options" not in r.text
        assert client.get("/api/v1/healthz").json()["audit"] == "failing"


def test_unwritable_audit_answers_and_alarms_by_policy(unwritable, caplog):
    """Policy 'answer-and-alarm': the answer is sent, marked not recorded, and an error is logged."""
    with TestClient(_app(audit_path=unwritable, audit_policy="answer-and-alarm")) as client:
        with caplog.at_level(logging.ERROR, logger="mbcpath.web.audit"):
            r = client.post(API, json=case(SEED))
        assert r.status_code == 200 and r.json()["options"]
        assert r.headers["x-mbcpath-audit"] == "not-recorded"
        assert client.get("/api/v1/healthz").json()["audit"] == "failing"
    alarms = [rec for rec in caplog.records if getattr(rec, "event", "") == "audit_write_failed"]
    assert alarms and "not-a-dir" in alarms[0].error


def test_full_disk_leaves_nothing_half_written(tmp_path, monkeypatch):
    """A short write (disk full) is undone: the trail keeps only whole lines, and the chain still verifies
    once the disk has room again."""
    from mbcpath.web import audit as audit_mod
    from mbcpath.web.audit import verify_chain

    path = tmp_path / "audit.jsonl"
    with TestClient(_app(audit_path=path, audit_policy="refuse"), raise_server_exceptions=False) as client:
        assert client.post(API, json=case(SEED)).status_code == 200
        size = path.stat().st_size
        real_write = audit_mod.os.write

        def short_write(fd, data):
            return real_write(fd, data[: len(data) // 2])  # half the line, as a full disk would

        monkeypatch.setattr(audit_mod.os, "write", short_write)
        r = client.post(API, json=case(SEED))
        assert r.status_code == 503
        assert path.stat().st_size == size  # the half line was truncated away

        def enospc(fd, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(audit_mod.os, "write", enospc)
        assert client.post(API, json=case(SEED)).status_code == 503
        monkeypatch.setattr(audit_mod.os, "write", real_write)
        assert client.post(API, json=case(SEED)).status_code == 200
    assert verify_chain(path) == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_client_disconnect_leaves_whole_audit_lines(tmp_path):
    """Clients that hang up mid-request (real server, real sockets) leave only whole, chained audit lines."""
    import uvicorn

    from mbcpath.web.audit import verify_chain
    from mbcpath.web.deps import get_engine, load_engine

    real = load_engine()
    release = threading.Event()

    def slow_engine(patient, kb):
        release.wait(5)
        return real(patient, kb)

    async def engine_dep():
        return slow_engine

    path = tmp_path / "audit.jsonl"
    app = _app(audit_path=path)
    app.dependency_overrides[get_engine] = engine_dep
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        body = json.dumps(case(SEED)).encode()
        head = (f"POST {API} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(head + body)
            # the socket is closed while the engine is still busy
        release.set()
        with socket.create_connection(("127.0.0.1", port)) as s:  # one client that waits for its answer
            s.sendall(head + body)
            s.settimeout(30)
            assert s.recv(12).startswith(b"HTTP/1.1 200")
    finally:
        server.should_exit = True
        thread.join(10)
    n = verify_chain(path)
    assert 1 <= n <= 4
    for line in path.read_bytes().splitlines():
        json.loads(line)
