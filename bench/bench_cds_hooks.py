"""CDS Hooks benchmark: patient-view with prefetch against GET /api/v1/healthz, in the same run.

Starts the app with uvicorn (one worker) on a free 127.0.0.1 port, trusting the CDS Hooks spec's published
test key (tests/data/interop/cds-hooks/spec-2.0.1/jwk-private.json: for tests only), then runs ``--clients``
concurrent keep-alive clients sending ``--requests`` patient-view calls (each with its own signed JWT, so
the jti replay check passes, and the prefetch of a generated mCODE record, vignettes in rotation), and as the
baseline the same number of ``GET /api/v1/healthz``. Prints p50/p99, errors and the p99 ratio (target
<= 3x). Bounded in count and time; only 127.0.0.1 is contacted. No assertions: read the ratio.

Usage::

    python bench/cds_hooks.py [--requests 2000] [--clients 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_http import Phase, free_port, wait_ready  # noqa: E402

ROOT = HERE.parent
SPEC = ROOT / "tests" / "data" / "interop" / "cds-hooks" / "spec-2.0.1"
ISS = "https://bench-ehr.example/"


def bodies() -> list[bytes]:
    from mbcpath.interop.generator import patient_to_bundle

    out = []
    for path in sorted((ROOT / "tests" / "cases").glob("*.json")):
        case = json.loads(path.read_text())
        if case["expect"].get("reject"):
            continue
        bundle = patient_to_bundle(dict(case["patient"], id="p1"), date.today())
        res = [e["resource"] for e in bundle["entry"]]
        prefetch: dict[str, object] = {"patient": res[0]}
        for key, rtype in (("conditions", "Condition"), ("observations", "Observation"),
                           ("medicationStatements", "MedicationStatement"), ("medicationRequests", "MedicationRequest"),
                           ("medicationAdministrations", "MedicationAdministration")):
            prefetch[key] = {"resourceType": "Bundle", "type": "searchset",
                             "entry": [{"resource": r} for r in res if r["resourceType"] == rtype]}
        out.append(json.dumps({"hookInstance": str(uuid.uuid4()), "hook": "patient-view",
                               "context": {"userId": "Practitioner/1", "patientId": "p1"},
                               "prefetch": prefetch}).encode())
    return out


def tokens(n: int, aud: str) -> list[str]:
    import jwt

    key = jwt.PyJWK(json.loads((SPEC / "jwk-private.json").read_text()), algorithm="ES384").key
    exp = int(time.time()) + 3600
    return [jwt.encode({"iss": ISS, "aud": aud, "exp": exp, "jti": str(uuid.uuid4())}, key, algorithm="ES384",
                       headers={"kid": "example-kid"}) for _ in range(n)]


async def phase(name: str, port: int, requests: list[bytes], clients: int, limit: float) -> Phase:
    ph = Phase(name)
    queue = iter(requests)
    start = time.perf_counter()

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for raw in queue:
                if time.perf_counter() - start > limit:
                    break
                t0 = time.perf_counter()
                try:
                    writer.write(raw)
                    await writer.drain()
                    header = await reader.readuntil(b"\r\n\r\n")
                    length = next((int(x[15:]) for x in header.split(b"\r\n")
                                   if x[:15].lower() == b"content-length:"), 0)
                    if length:
                        await reader.readexactly(length)
                    status = int(header[9:12])
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    ph.errors += 1
                    return
                ph.latencies.append(time.perf_counter() - t0)
                ph.statuses[status] = ph.statuses.get(status, 0) + 1
                ph.errors += status != 200
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
    ph.wall = time.perf_counter() - start
    return ph


def main() -> int:
    import subprocess

    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--time-limit", type=float, default=300.0)
    args = ap.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        issuers = Path(tmp) / "issuers.json"
        issuers.write_text(json.dumps({ISS: {"jwks": json.loads((SPEC / "jwks-public.json").read_text())}}))
        env = dict(os.environ, MBCPATH_WEB_HOST="127.0.0.1", MBCPATH_WEB_PORT=str(port), PYTHONWARNINGS="ignore",
                   MBCPATH_CDS_TRUSTED_ISSUERS=str(issuers), MBCPATH_CDS_BASE_URL=base + "/cds-services")
        proc = subprocess.Popen([sys.executable, "-c", "from mbcpath.web import serve; serve()"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_ready(port, proc)
            path = "/cds-services/mbcpath-patient-view"
            pool = bodies()
            toks = tokens(args.requests, base + path)
            calls = [(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {t}\r\n"
                      f"Content-Type: application/json\r\nContent-Length: {len(pool[i % len(pool)])}\r\n\r\n").encode()
                     + pool[i % len(pool)] for i, t in enumerate(toks)]
            health = [f"GET /api/v1/healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()] * args.requests
            asyncio.run(phase("warm-up", port, calls[:0] + health[:200], 4, 30))
            hz = asyncio.run(phase("GET /api/v1/healthz", port, health, args.clients, args.time_limit))
            pv = asyncio.run(phase("patient-view (prefetch)", port, calls, args.clients, args.time_limit))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    print(hz.line())
    print(pv.line())
    ratio = pv.pct(0.99) / hz.pct(0.99) if hz.latencies else float("nan")
    print(f"patient-view p99 / healthz p99 = {ratio:.2f}x (target <= 3x); errors {pv.errors + hz.errors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
