"""HTTP benchmark: POST /api/v1/recommendations against GET /healthz, in the same run.

Starts the app with uvicorn (one worker, access log off) on a free 127.0.0.1 port in a
subprocess, then runs ``--clients`` concurrent clients (httpx.AsyncClient, one connection
each) that send ``--requests`` recommendation requests (a vignette patient), and as the
baseline the same number of ``GET /healthz``. Prints p50/p99 latency, throughput and
error counts for both, and the ratios. Bounded: at most ``--requests`` per phase and
``--time-limit`` seconds per phase; only 127.0.0.1 is contacted. No assertions: machines
here are shared and noisy, so read the ratio, not the absolute numbers.

Usage::

    python bench/bench_http.py [--requests 10000] [--clients 50] [--patient tests/cases/seed-01-first-line.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATIENT = ROOT / "tests" / "cases" / "seed-01-first-line.json"


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    wall: float = 0.0

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies)
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000

    def line(self) -> str:
        n = len(self.latencies)
        rps = n / self.wall if self.wall else 0.0
        mean = statistics.fmean(self.latencies) * 1000 if n else float("nan")
        return (f"{self.name:<28} n={n:>6}  errors={self.errors:>4}  p50={self.pct(0.50):7.2f} ms  "
                f"p99={self.pct(0.99):7.2f} ms  mean={mean:7.2f} ms  {rps:8.0f} req/s  statuses={self.statuses}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, MBCPATH_WEB_HOST="127.0.0.1", MBCPATH_WEB_PORT=str(port), MBCPATH_WEB_ACCESS_LOG="0",
               PYTHONWARNINGS="ignore")
    code = "from mbcpath.web import serve; serve()"
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise SystemExit(f"server exited early ({proc.returncode}):\n{err[-2000:]}")
        try:
            if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not become ready")


async def run_phase(name: str, base: str, method: str, path: str, body: bytes | None, total: int, clients: int,
                    time_limit: float) -> Phase:
    phase = Phase(name)
    remaining = total
    lock = asyncio.Lock()
    start = time.perf_counter()
    deadline = start + time_limit
    headers = {"content-type": "application/json"} if body is not None else {}

    async def worker() -> None:
        nonlocal remaining
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:
            while True:
                async with lock:
                    if remaining <= 0 or time.perf_counter() > deadline:
                        return
                    remaining -= 1
                t0 = time.perf_counter()
                try:
                    r = await client.request(method, path, content=body, headers=headers)
                    ok = r.status_code == 200
                    phase.statuses[r.status_code] = phase.statuses.get(r.status_code, 0) + 1
                except httpx.HTTPError:
                    ok = False
                phase.latencies.append(time.perf_counter() - t0)
                if not ok:
                    phase.errors += 1

    await asyncio.gather(*(worker() for _ in range(clients)))
    phase.wall = time.perf_counter() - start
    return phase


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=10_000, help="requests per phase (max 100000)")
    ap.add_argument("--clients", type=int, default=50, help="concurrent clients (max 200)")
    ap.add_argument("--patient", type=Path, default=DEFAULT_PATIENT, help="vignette or patient JSON file")
    ap.add_argument("--time-limit", type=float, default=180.0, help="seconds per phase at most")
    args = ap.parse_args()
    total = max(1, min(args.requests, 100_000))
    clients = max(1, min(args.clients, 200))
    doc = json.loads(args.patient.read_text(encoding="utf-8"))
    body = json.dumps(doc.get("patient", doc)).encode()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(port)
    try:
        wait_ready(base, proc)
        # warm-up: KB, engine caches, connection set-up
        for _ in range(20):
            httpx.post(base + "/api/v1/recommendations", content=body, headers={"content-type": "application/json"})
        print(f"mbcpath HTTP bench: {total} requests per phase, {clients} concurrent clients, uvicorn 1 worker, "
              f"{base}, patient {args.patient.name}")
        health = asyncio.run(run_phase("GET /healthz (baseline)", base, "GET", "/healthz", None, total, clients,
                                       args.time_limit))
        print(health.line())
        rec = asyncio.run(run_phase("POST /api/v1/recommendations", base, "POST", "/api/v1/recommendations", body,
                                    total, clients, args.time_limit))
        print(rec.line())
        print(f"ratio recommendations/healthz: p50 x{rec.pct(0.5) / health.pct(0.5):.2f}, "
              f"p99 x{rec.pct(0.99) / health.pct(0.99):.2f}, "
              f"throughput x{(len(rec.latencies) / rec.wall) / (len(health.latencies) / health.wall):.2f}")
        if health.errors or rec.errors:
            print(f"ERRORS: healthz {health.errors}, recommendations {rec.errors}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
