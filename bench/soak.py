"""Soak (issue 9): N minutes at 50 clients of mixed traffic against one server; 0 errors and RSS growth after
warm-up under 10%.

Traffic, in rotation: POST /api/v1/recommendations (every answered vignette), POST /api/v1/projections (run in
the server's worker process), CDS Hooks (discovery and patient-view calls with a generated mCODE prefetch, each
signed with its own JWT from the CDS Hooks spec's published test key, which the server is told to trust), and
pages (home, patient form, trial explorer, a trial page, the walkthrough, and the form's pasted-JSON result page).
Every request must answer 200.

Memory: resident set size of the server and its worker processes (``/proc``), sampled after every slice. The
first slice (a fifth of the run, at least 30 s) is warm-up: caches fill, fits are memoised; growth is measured
from the end of warm-up to the end of the run.

    python bench/soak.py [--minutes 10] [--clients 50]      # make bench
    python bench/soak.py --minutes 1                         # a quick check (make bench-quick)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import httpx
from bench_cds_hooks import ISS, SPEC, tokens
from bench_cds_hooks import bodies as hook_bodies
from httpload import Phase, Request, free_port, patient_bodies, run_phase, start_server, stop_server, wait_ready

MAX_GROWTH = 0.10


def rss_kib(pid: int) -> int:
    """RSS of ``pid`` and all its descendants, KiB (Linux /proc)."""
    total = 0
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children") if Path(f"/proc/{p}/task").is_dir() else []:
            try:
                todo += [int(c) for c in task.read_text().split()]
            except OSError:
                continue
    return out


@dataclass
class SignedRequest(Request):
    """A CDS Hooks request carrying a fresh JWT on every send (the service refuses a replayed ``jti``)."""

    fresh: bool = True

    def head(self, port: int) -> bytes:
        token = tokens(1, f"http://127.0.0.1:{port}{self.path}")[0]
        plain = super().head(port)
        return plain.replace(b"\r\n\r\n", f"\r\nAuthorization: Bearer {token}\r\n\r\n".encode(), 1)


def cds_env(tmp: Path, port: int) -> dict[str, str]:
    """Server settings that trust the spec's test issuer (tests only) and name the service's own URL."""
    issuers = tmp / "issuers.json"
    issuers.write_text(json.dumps({ISS: {"jwks": json.loads((SPEC / "jwks-public.json").read_text())}}))
    return {"MBCPATH_CDS_TRUSTED_ISSUERS": str(issuers),
            "MBCPATH_CDS_BASE_URL": f"http://127.0.0.1:{port}/cds-services"}


def traffic(port: int) -> tuple[list[Request], list[str]]:
    """The mixed request rotation, and notes on kinds skipped."""
    bodies = patient_bodies()
    notes = []
    reqs = [Request("POST", "/api/v1/recommendations", b) for b in bodies]
    # two projection patients in ~34 requests: with more, the closed loop piles every client up behind the one
    # projection worker process (a bottleneck the time budget turns into 504s, not a leak or a fault)
    reqs += [Request("POST", "/api/v1/projections", b) for b in bodies[:2]]
    discovery = SignedRequest("GET", "/cds-services")
    token = tokens(1, f"http://127.0.0.1:{port}/cds-services")[0]
    cds = httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=10, headers={"Authorization": f"Bearer {token}"})
    if cds.status_code != 200:
        raise SystemExit(f"CDS Hooks discovery answered {cds.status_code} with a trusted token: {cds.text[:300]}")
    hooks = hook_bodies()
    reqs += [discovery] * 2
    reqs += [SignedRequest("POST", "/cds-services/mbcpath-patient-view", b) for b in hooks[:4]]
    notes.append("CDS Hooks: discovery and patient-view (prefetch) calls, each with its own signed JWT")
    form = "patient_json=" + urllib.parse.quote(bodies[0].decode())
    reqs += [Request("GET", p) for p in ("/", "/patient", "/trials", "/trials/CLEOPATRA", "/walkthrough")]
    reqs.append(Request("POST", "/patient/json", form.encode(), ctype="application/x-www-form-urlencoded"))
    return reqs, notes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="duration (default 10; at most 60)")
    ap.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50; at most 200)")
    args = ap.parse_args()
    duration = max(0.2, min(args.minutes, 60.0)) * 60
    clients = max(1, min(args.clients, 200))
    warmup = max(30.0, duration / 5)
    port = free_port()
    tmp = tempfile.TemporaryDirectory()
    proc = start_server(port, extra_env=cds_env(Path(tmp.name), port))
    try:
        wait_ready(port, proc)
        reqs, notes = traffic(port)
        print(f"soak: {duration / 60:g} min, {clients} clients, {len(reqs)} kinds of request in rotation "
              f"(warm-up {warmup:.0f} s)")
        for note in notes:
            print("  " + note)
        slices = run_slices(port, proc.pid, reqs, clients, duration, warmup)
    finally:
        stop_server(proc)
        tmp.cleanup()
    return report(slices, warmup)


def run_slices(port: int, pid: int, reqs: list[Request], clients: int, duration: float,
               warmup: float) -> list[tuple[float, Phase, int]]:
    """Run slices of at most 30 s until ``duration``; (elapsed, phase, RSS after) per slice."""
    out = []
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) < duration:
        length = min(30.0, duration - elapsed, max(1.0, warmup - elapsed) if elapsed < warmup else 30.0)
        phase = asyncio.run(run_phase("mixed", port, reqs, 10_000_000, clients, length))
        rss = rss_kib(pid)
        out.append((time.monotonic() - start, phase, rss))
        print(f"  t={out[-1][0]:6.0f} s  {phase.line()}  rss={rss / 1024:.0f} MiB", flush=True)
        print(f"           p99 by kind: {phase.paths_line()}", flush=True)
    return out


def report(slices: list[tuple[float, Phase, int]], warmup: float) -> int:
    errors = sum(p.errors for _, p, _ in slices)
    n = sum(len(p.latencies) for _, p, _ in slices)
    warm = next((i for i, (t, _, _) in enumerate(slices) if t >= warmup - 1.0), len(slices) - 1)
    after = slices[warm + 1:]
    base = slices[warm][2]
    end = slices[-1][2]
    growth = (end - base) / base if after else float("nan")
    ok = errors == 0 and after and growth < MAX_GROWTH
    print(json.dumps({"requests": n, "errors": errors, "rss_after_warmup_mib": round(base / 1024, 1),
                      "rss_end_mib": round(end / 1024, 1), "rss_growth": round(growth, 4)}))
    print(f"SOAK: {n} requests, {errors} errors, RSS growth after warm-up {growth * 100:+.1f}% "
          f"(target: 0 errors, < {MAX_GROWTH * 100:.0f}%): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
