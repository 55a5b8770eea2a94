"""Shared by bench_http.py and soak.py: start the app in a subprocess on 127.0.0.1, and a lean closed-loop
HTTP/1.1 load generator (one keep-alive connection per client on raw asyncio streams, so the client's own CPU
cost stays small: client and server share this machine's cores).

Only 127.0.0.1 is contacted; every loop is bounded in requests and in time.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "cases"

#: the server the bench starts; with MBCPATH_BENCH_MEMO_ENGINE=1 the engine's answers are memoised per input,
#: so a phase measures everything a request costs except the engine itself
SERVER = """
import os
if os.environ.get("MBCPATH_BENCH_MEMO_ENGINE") == "1":
    import mbcpath.web.deps as deps
    real, memo = deps.load_engine(), {}
    def engine(patient, kb):
        key = patient.model_dump_json()
        if key not in memo:
            memo[key] = real(patient, kb)
        return memo[key]
    deps.load_engine = lambda: engine
from mbcpath.web import serve
serve()
"""


@dataclass
class Request:
    method: str
    path: str
    body: bytes | None = None
    ctype: str = "application/json"
    fresh: bool = False  # build the head again on every send (a signed request must not be replayed)

    def head(self, port: int) -> bytes:
        extra = f"Content-Type: {self.ctype}\r\nContent-Length: {len(self.body)}\r\n" if self.body is not None else ""
        return f"{self.method} {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode()


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    wall: float = 0.0
    by_path: dict[str, list[float]] = field(default_factory=dict)

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")

    def rps(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def paths_line(self) -> str:
        """p99 per method and path, slowest first."""
        p99 = {k: sorted(v)[min(len(v) - 1, int(0.99 * len(v)))] * 1000 for k, v in self.by_path.items()}
        return ", ".join(f"{k} {v:.0f} ms" for k, v in sorted(p99.items(), key=lambda kv: -kv[1]))

    def line(self) -> str:
        return (f"{self.name:<44} n={len(self.latencies):>6}  errors={self.errors:>3}  p50={self.pct(0.50):7.2f} ms  "
                f"p99={self.pct(0.99):7.2f} ms  {self.rps():7.0f} req/s  statuses={self.statuses}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, *, workers: int = 1, memo_engine: bool = False,
                 extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, MBCPATH_WEB_HOST="127.0.0.1", MBCPATH_WEB_PORT=str(port), MBCPATH_WEB_ACCESS_LOG="0",
               MBCPATH_WEB_WORKERS=str(workers), PYTHONWARNINGS="ignore",
               MBCPATH_BENCH_MEMO_ENGINE="1" if memo_engine else "0", **(extra_env or {}))
    return subprocess.Popen([sys.executable, "-c", SERVER], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise SystemExit(f"server exited early ({proc.returncode}):\n{err[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not become ready")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes,
                    body: bytes | None) -> int:
    """One keep-alive HTTP/1.1 request; read the whole response (Content-Length or chunked); the status."""
    writer.write(head + (body or b""))
    await writer.drain()
    header = await reader.readuntil(b"\r\n\r\n")
    status = int(header[9:12])
    length, chunked = 0, False
    for line in header.split(b"\r\n"):
        low = line.lower()
        if low.startswith(b"content-length:"):
            length = int(line[15:])
        elif low.startswith(b"transfer-encoding:") and b"chunked" in low:
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def run_phase(name: str, port: int, requests: list[Request], total: int, clients: int, time_limit: float,
                    ok: Callable[[int], bool] = lambda s: s == 200) -> Phase:
    """``clients`` keep-alive connections share ``total`` requests (rotating through ``requests``)."""
    phase = Phase(name)
    counter = iter(range(total))
    start = time.perf_counter()
    deadline = start + time_limit
    heads = [None if r.fresh else r.head(port) for r in requests]  # a fresh head per send (signed requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in counter:
                if time.perf_counter() > deadline:
                    return
                k = i % len(requests)
                t0 = time.perf_counter()
                try:
                    status = await _exchange(reader, writer, heads[k] or requests[k].head(port), requests[k].body)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    phase.errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                took = time.perf_counter() - t0
                phase.latencies.append(took)
                phase.by_path.setdefault(f"{requests[k].method} {requests[k].path}", []).append(took)
                phase.statuses[status] = phase.statuses.get(status, 0) + 1
                phase.errors += not ok(status)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
    phase.wall = time.perf_counter() - start
    return phase


def patient_bodies() -> list[bytes]:
    """Every answered vignette patient, as JSON bytes."""
    bodies = []
    for path in sorted(CASES.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not doc.get("expect", {}).get("reject"):
            bodies.append(json.dumps(doc["patient"]).encode())
    return bodies
