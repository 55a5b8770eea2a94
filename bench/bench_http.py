"""HTTP benchmark: POST /api/v1/recommendations against GET /healthz, in the same run.

Starts the app with uvicorn (one worker, access log off) on a free 127.0.0.1 port in a
subprocess, then runs ``--clients`` concurrent keep-alive clients (a minimal HTTP/1.1 client on
raw asyncio streams, one connection each) that send ``--requests`` recommendation requests
(every answered vignette patient in rotation), and as the baseline the same number of
``GET /healthz``. Prints p50/p99 latency, throughput and
error counts for both, and the ratios. Bounded: at most ``--requests`` per phase and
``--time-limit`` seconds per phase; only 127.0.0.1 is contacted. No assertions: machines
here are shared and noisy, so read the ratio, not the absolute numbers.

Usage::

    python bench/bench_http.py [--requests 10000] [--clients 50] [--patient FILE]
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
CASES = ROOT / "tests" / "cases"


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


def start_server(port: int, workers: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, MBCPATH_WEB_HOST="127.0.0.1", MBCPATH_WEB_PORT=str(port), MBCPATH_WEB_ACCESS_LOG="0",
               MBCPATH_WEB_WORKERS=str(workers), PYTHONWARNINGS="ignore")
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


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes,
                   body: bytes | None) -> int:
    """Send one keep-alive HTTP/1.1 request and read the whole response; return the status."""
    writer.write(head + (body or b""))
    await writer.drain()
    header = await reader.readuntil(b"\r\n\r\n")
    status = int(header[9:12])
    length = 0
    for line in header.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def run_phase(name: str, port: int, method: str, path: str, bodies: list[bytes] | None, total: int,
                    clients: int, time_limit: float) -> Phase:
    """``clients`` keep-alive connections share ``total`` requests; bodies rotate per request.

    A minimal HTTP/1.1 client on raw asyncio streams keeps the client's own CPU cost small, so
    the latencies are the server's (the client and the server share this machine's 2 cores).
    """
    phase = Phase(name)
    counter = iter(range(total))
    start = time.perf_counter()
    deadline = start + time_limit

    def head_for(body: bytes | None) -> bytes:
        extra = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if body is not None else ""
        return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode()

    heads = [head_for(b) for b in bodies] if bodies else [head_for(None)]

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in counter:
                if time.perf_counter() > deadline:
                    return
                k = i % len(heads)
                t0 = time.perf_counter()
                try:
                    status = await _request(reader, writer, heads[k], bodies[k] if bodies else None)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    phase.errors += 1
                    phase.latencies.append(time.perf_counter() - t0)
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                phase.latencies.append(time.perf_counter() - t0)
                phase.statuses[status] = phase.statuses.get(status, 0) + 1
                if status != 200:
                    phase.errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
    phase.wall = time.perf_counter() - start
    return phase


def _patients(paths: list[Path]) -> list[bytes]:
    bodies = []
    for path in paths:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("expect", {}).get("reject"):
            continue
        bodies.append(json.dumps(doc.get("patient", doc)).encode())
    return bodies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=10_000, help="requests per phase (max 100000)")
    ap.add_argument("--clients", type=int, default=50, help="concurrent clients (max 200)")
    ap.add_argument("--patient", type=Path, default=None,
                    help="one vignette or patient JSON file (default: rotate through every answered vignette)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1],
                    help="uvicorn worker counts to measure, one server each (default: 1)")
    ap.add_argument("--time-limit", type=float, default=180.0, help="seconds per phase at most")
    args = ap.parse_args()
    total = max(1, min(args.requests, 100_000))
    clients = max(1, min(args.clients, 200))
    bodies = _patients([args.patient] if args.patient else sorted(CASES.glob("*.json")))

    for workers in args.workers:
        _measure(bodies, total, clients, max(1, min(workers, 4)), args.time_limit)


def _measure(bodies: list[bytes], total: int, clients: int, workers: int, time_limit: float) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(port, workers)
    try:
        wait_ready(base, proc)
        # warm-up: KB, engine caches and connections in every worker
        for body in bodies * 3 * workers:
            httpx.post(base + "/api/v1/recommendations", content=body, headers={"content-type": "application/json"})
        print(f"mbcpath HTTP bench: {total} requests per phase, {clients} concurrent keep-alive clients, "
              f"uvicorn {workers} worker(s), {base}, {len(bodies)} different patients in rotation")
        health = asyncio.run(run_phase("GET /healthz (baseline)", port, "GET", "/healthz", None, total, clients,
                                       time_limit))
        print(health.line())
        rec = asyncio.run(run_phase("POST /api/v1/recommendations", port, "POST", "/api/v1/recommendations",
                                    bodies, total, clients, time_limit))
        print(rec.line())
        print(f"ratio recommendations/healthz: p50 x{rec.pct(0.5) / health.pct(0.5):.2f}, "
              f"p99 x{rec.pct(0.99) / health.pct(0.99):.2f}, "
              f"throughput x{(len(rec.latencies) / rec.wall) / (len(health.latencies) / health.wall):.2f}; "
              f"target p99 < 50 ms with 0 errors: "
              f"{'met' if rec.pct(0.99) < 50 and not rec.errors else 'NOT met'}")
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
