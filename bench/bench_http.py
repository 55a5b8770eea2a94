"""HTTP benchmark (issue 9, ratio 2): POST /api/v1/recommendations p99 against GET /api/v1/healthz p99, at 50
clients, in the same run. Target: <= 2x.

Three phases against one uvicorn server (1 worker, access log off) on a free 127.0.0.1 port:

1. ``GET /api/v1/healthz``: the baseline (the whole stack: middleware, routing, JSON response);
2. ``POST /api/v1/recommendations``: every answered vignette in rotation (the engine runs);
3. the same POSTs against a second server whose engine answers are memoised per input: everything a request
   costs except the engine (body, strict validation, thread hop, serialisation, 36 KB response). This is the
   part the serving code controls; the engine's own time is the engine issue's (its compiled plan).

Each request is a closed loop on a keep-alive connection (a lean raw-socket client), bounded by
``--requests`` and ``--time-limit``. Prints p50/p99, throughput and the ratios against the baseline.

    python bench/bench_http.py [--requests 10000] [--clients 50] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

import httpx
from httpload import Phase, Request, free_port, patient_bodies, run_phase, start_server, stop_server, wait_ready

TARGET = 2.0


def measure(total: int, clients: int, time_limit: float, rounds: int, *, memo: bool) -> tuple[list[Phase], list[Phase]]:
    """``rounds`` alternations of (healthz, recommendations) on one server, ``total`` requests per phase each."""
    port = free_port()
    proc = start_server(port, memo_engine=memo)
    try:
        wait_ready(port, proc)
        bodies = patient_bodies()
        recs = [Request("POST", "/api/v1/recommendations", b) for b in bodies]
        for body in bodies * 3:  # warm-up: KB, caches, connections
            httpx.post(f"http://127.0.0.1:{port}/api/v1/recommendations", content=body,
                       headers={"content-type": "application/json"})
        label = "POST /api/v1/recommendations" + (" (engine memoised)" if memo else "")
        health, rec = [], []
        for _ in range(rounds):
            health.append(asyncio.run(run_phase("GET /api/v1/healthz (baseline)", port,
                                                [Request("GET", "/api/v1/healthz")], total, clients, time_limit)))
            rec.append(asyncio.run(run_phase(label, port, recs, total, clients, time_limit)))
        return health, rec
    finally:
        stop_server(proc)


def p99(phases: list[Phase]) -> float:
    """Median over rounds of each round's p99 (one noisy round on a shared machine does not decide)."""
    return statistics.median(p.pct(0.99) for p in phases)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=10_000, help="requests per phase (max 100000)")
    ap.add_argument("--clients", type=int, default=50, help="concurrent clients (max 200)")
    ap.add_argument("--time-limit", type=float, default=180.0, help="seconds per phase at most")
    ap.add_argument("--rounds", type=int, default=3, help="alternations of baseline and measured phase (median p99)")
    ap.add_argument("--quick", action="store_true", help="2,000 requests per phase, 1 round")
    args = ap.parse_args()
    total = 2000 if args.quick else max(1, min(args.requests, 100_000))
    rounds = 1 if args.quick else max(1, min(args.rounds, 9))
    clients = max(1, min(args.clients, 200))
    print(f"HTTP bench: {total} requests per phase, {rounds} round(s), {clients} keep-alive clients, uvicorn 1 "
          f"worker, {len(patient_bodies())} vignette patients in rotation")
    health, rec = measure(total, clients, args.time_limit, rounds, memo=False)
    health_m, plumbing = measure(total, clients, args.time_limit, rounds, memo=True)
    for phase in (*health, *rec, *health_m, *plumbing):
        print("  " + phase.line())
    ratio = p99(rec) / p99(health)
    ratio_plumbing = p99(plumbing) / p99(health_m)
    errors = sum(p.errors for p in (*health, *rec, *health_m, *plumbing))
    met = ratio <= TARGET and not errors
    print(f"RATIO (2) POST /recommendations p99 / GET /healthz p99 at {clients} clients: {ratio:.2f}x "
          f"(target <= {TARGET:g}x): {'met' if met else 'NOT met'}; without the engine's own time (memoised): "
          f"{ratio_plumbing:.2f}x; errors {errors}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
