"""Projection benchmark: the first POST /api/v1/projections after start-up against a warm one, and the
p99 of recommendations sent while projections run, each against a baseline measured in the same run.

Starts the app with uvicorn (one worker) on a free 127.0.0.1 port in a subprocess (start-up prepares the
fits from the checked-in artefact and the networks, off the request path), then:

1. **cold vs warm**: the very first request after ``/healthz`` answers is a projection (the seed first-line
   patient); then ``--warm`` more of the same. Repeated on ``--starts`` fresh servers (one cold sample per
   start: a single request is noisy on a shared machine); prints the cold median, the warm median and the
   ratio (target: cold at most 2x warm);
2. **recommendations during projections** (last server): ``--requests`` recommendations from ``--clients``
   keep-alive clients alone (baseline), then the same load while ``--projectors`` client(s) send projections
   back to back; prints both p99 and the ratio (target: at most 1.5x; a projection must not stall the
   server).

No assertions: machines here are shared and noisy, so read the ratios. Only 127.0.0.1 is contacted.

Usage::

    python bench/bench_projections.py [--starts 3] [--warm 20] [--requests 2000] [--clients 20] [--projectors 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_http import CASES, Phase, _patients, free_port, run_phase, start_server, wait_ready

SEED = CASES / "seed-01-first-line.json"


def _post(base: str, path: str, body: bytes) -> tuple[float, int]:
    t0 = time.perf_counter()
    r = httpx.post(base + path, content=body, headers={"content-type": "application/json"}, timeout=60.0)
    return time.perf_counter() - t0, r.status_code


def cold_vs_warm(base: str, body: bytes, n_warm: int) -> tuple[float, float, list[int]]:
    cold, status = _post(base, "/api/v1/projections", body)
    statuses = [status]
    warm = []
    for _ in range(n_warm):
        dt, st = _post(base, "/api/v1/projections", body)
        warm.append(dt)
        statuses.append(st)
    return cold, statistics.median(warm), statuses


async def _projector_load(port: int, bodies: list[bytes], stop: asyncio.Event, done: list[float]) -> None:
    """Back-to-back projections on one keep-alive connection until ``stop`` is set."""
    from bench_http import _request

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while not stop.is_set():
            body = bodies[i % len(bodies)]
            head = (f"POST /api/v1/projections HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json"
                    f"\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            t0 = time.perf_counter()
            await _request(reader, writer, head, body)
            done.append(time.perf_counter() - t0)
            i += 1
    finally:
        writer.close()


async def during(port: int, rec_bodies: list[bytes], proj_bodies: list[bytes], total: int, clients: int,
                 projectors: int, time_limit: float) -> tuple[Phase, list[float]]:
    stop = asyncio.Event()
    done: list[float] = []
    tasks = [asyncio.create_task(_projector_load(port, proj_bodies, stop, done)) for _ in range(projectors)]
    await asyncio.sleep(0.2)  # projections are running before the first recommendation is sent
    phase = await run_phase("recommendations during projections", port, "POST", "/api/v1/recommendations",
                            rec_bodies, total, clients, time_limit)
    stop.set()
    await asyncio.gather(*tasks)
    return phase, done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--warm", type=int, default=20, help="warm projections after the cold one")
    ap.add_argument("--requests", type=int, default=2000, help="recommendations per phase (max 20000)")
    ap.add_argument("--clients", type=int, default=20, help="concurrent recommendation clients (max 100)")
    ap.add_argument("--projectors", type=int, default=1, help="clients sending projections meanwhile (max 8)")
    ap.add_argument("--starts", type=int, default=3, help="fresh servers for the cold measurement (max 10)")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per phase at most")
    args = ap.parse_args()
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    seed_body = json.dumps(seed.get("patient", seed)).encode()
    bodies = _patients(sorted(CASES.glob("*.json")))
    starts = max(1, min(args.starts, 10))
    colds: list[float] = []
    warms: list[float] = []
    statuses: list[int] = []
    for k in range(starts):
        port, proc, startup = _start()
        base = f"http://127.0.0.1:{port}"
        try:
            cold, warm, st = cold_vs_warm(base, seed_body, max(1, min(args.warm, 200)))
        except BaseException:
            _stop(proc)
            raise
        colds.append(cold)
        warms.append(warm)
        statuses += st
        print(f"start {k + 1}: up in {startup:.2f} s; first POST /api/v1/projections {cold * 1000:.1f} ms, "
              f"warm median {warm * 1000:.1f} ms", flush=True)
        if k < starts - 1:
            _stop(proc)
    cold, warm = statistics.median(colds), statistics.median(warms)
    print(f"cold (median of {starts} fresh starts) {cold * 1000:.1f} ms; warm median {warm * 1000:.1f} ms; ratio "
          f"cold/warm x{cold / warm:.2f} (target <= 2: {'met' if cold <= 2 * warm else 'NOT met'}); "
          f"statuses {sorted(set(statuses))}")
    try:
        for body in bodies * 2:  # warm the recommendation path and connections
            httpx.post(base + "/api/v1/recommendations", content=body, headers={"content-type": "application/json"})
        total, clients = max(1, min(args.requests, 20_000)), max(1, min(args.clients, 100))
        alone = asyncio.run(run_phase("recommendations alone (baseline)", port, "POST", "/api/v1/recommendations",
                                      bodies, total, clients, args.time_limit))
        print(alone.line())
        proj_bodies = [b for b in bodies if b'"decision_point"' not in b] or bodies
        loaded, proj_times = asyncio.run(during(port, bodies, proj_bodies, total, clients,
                                                max(1, min(args.projectors, 8)), args.time_limit))
        print(loaded.line())
        ratio = loaded.pct(0.99) / alone.pct(0.99)
        med = statistics.median(proj_times) * 1000 if proj_times else float("nan")
        print(f"projections completed meanwhile: {len(proj_times)} (median {med:.1f} ms)")
        print(f"ratio p99 during/alone x{ratio:.2f} (target <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'}); "
              f"errors {alone.errors + loaded.errors}")
    finally:
        _stop(proc)


def _start() -> tuple[int, subprocess.Popen[bytes], float]:
    """A fresh server (start-up prepares fits and networks); returns its port, process and start-up seconds."""
    port = free_port()
    t0 = time.perf_counter()
    proc = start_server(port, 1)
    wait_ready(f"http://127.0.0.1:{port}", proc)
    return port, proc, time.perf_counter() - t0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


if __name__ == "__main__":
    main()
