"""Nothing blocks the event loop (issue 9, finding 5): /healthz answers while the heaviest request of each
kind is still running, and a request past its time budget gets 504 problem details.

No timing assertions: each test orders events. A blocking engine here waits for the probe to finish; had
it run on the event loop, the probe could not be served until the engine gave up (10 s later), so the
probe would finish *after* the heavy request.
"""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from .conftest import case, examples_dir

SEED = "seed-01-first-line"


def _app(**overrides):
    from mbcpath.web import create_app
    from mbcpath.web.settings import Settings

    return create_app(Settings(examples_dir=examples_dir(), **overrides))


async def _probe_during(app, heavy_request, release: threading.Event) -> tuple[list[str], httpx.Response]:
    """Start the heavy request, probe /api/v1/healthz, then release the heavy one; return the event order."""
    order: list[str] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        async def heavy() -> httpx.Response:
            r = await heavy_request(client)
            order.append("heavy done")
            return r

        async def probe() -> None:
            await asyncio.sleep(0.05)  # let the heavy request reach its worker
            r = await client.get("/api/v1/healthz")
            assert r.status_code == 200
            order.append("probe done")
            release.set()

        heavy_response, _ = await asyncio.gather(heavy(), probe())
    return order, heavy_response


def test_healthz_answers_while_a_recommendation_computes():
    """The engine runs in a worker thread: the probe is answered while it is still busy."""
    from mbcpath.web.deps import get_engine, load_engine

    release = threading.Event()
    real = load_engine()

    def slow_engine(patient, kb):
        release.wait(10)  # blocks whatever thread runs it
        return real(patient, kb)

    async def engine_dep():
        return slow_engine

    app = _app()
    app.dependency_overrides[get_engine] = engine_dep
    order, r = asyncio.run(_probe_during(app, lambda c: c.post("/api/v1/recommendations", json=case(SEED)),
                                         release))
    assert order == ["probe done", "heavy done"]
    assert r.status_code == 200


def test_healthz_answers_while_a_projection_computes():
    """Projections run in a worker process (a fresh one: imports NumPy/SciPy and fits): the probe is answered
    meanwhile, and the projection itself arrives afterwards, whole."""
    pytest.importorskip("lifelines")
    release = threading.Event()
    app = _app(projection_processes=1)
    try:
        order, r = asyncio.run(_probe_during(app, lambda c: c.post("/api/v1/projections", json=case(SEED)),
                                             release))
    finally:
        app.state.offload.close()
    assert order == ["probe done", "heavy done"]
    assert r.status_code == 200, r.text[:300]
    assert r.json()["projections"]


def test_time_budget_gives_504_problem():
    """A request that outlives the configured budget is answered 504 problem details; the loop stays free."""
    from mbcpath.web.deps import get_engine

    release = threading.Event()

    def stuck_engine(patient, kb):
        release.wait(10)
        raise AssertionError("not reached in time")

    async def engine_dep():
        return stuck_engine

    app = _app(request_timeout_s=0.2)
    app.dependency_overrides[get_engine] = engine_dep

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            r = await client.post("/api/v1/recommendations", json=case(SEED))
            assert (await client.get("/api/v1/healthz")).status_code == 200
            return r

    try:
        r = asyncio.run(run())
    finally:
        release.set()
    assert r.status_code == 504
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/docs#problem-timeout"


def test_too_many_waiting_answers_get_503():
    """Past max_pending waiting answers, new ones are refused with 503 and Retry-After instead of queueing."""
    from mbcpath.web.deps import get_engine, load_engine

    release = threading.Event()
    real = load_engine()

    def slow_engine(patient, kb):
        release.wait(10)
        return real(patient, kb)

    async def engine_dep():
        return slow_engine

    app = _app(max_pending=1)
    app.dependency_overrides[get_engine] = engine_dep

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = asyncio.create_task(client.post("/api/v1/recommendations", json=case(SEED)))
            await asyncio.sleep(0.05)
            second = await client.post("/api/v1/recommendations", json=case(SEED))
            release.set()
            return [await first, second]

    first, second = asyncio.run(run())
    assert first.status_code == 200
    assert second.status_code == 503 and second.headers["retry-after"] == "1"
    assert second.json()["type"] == "/docs#problem-overloaded"


def test_healthz_answers_while_a_page_computes():
    """The form's result page computes off the loop too."""
    import json

    import mbcpath.web.deps as deps
    from mbcpath.web.deps import load_engine

    release = threading.Event()
    real = load_engine()

    def slow_engine(patient, kb):
        release.wait(3)
        return real(patient, kb)

    original = deps.load_engine
    deps.load_engine = lambda: slow_engine  # the page router calls load_engine() itself
    app = _app()
    try:
        order, _ = asyncio.run(_probe_during(
            app, lambda c: c.post("/patient/json", data={"patient_json": json.dumps(case(SEED))}),
            release))
    finally:
        deps.load_engine = original
    assert order == ["probe done", "heavy done"]


WORKER_PARENT = """
import asyncio, os, time
from mbcpath.web.offload import Offloader

async def main():
    off = Offloader(threads=1, processes=1, budget_s=60, max_pending=4)
    pid = await off.run_process(os.getpid)                   # the worker's pid
    print(pid, flush=True)
    off._executor().submit(time.sleep, 60.0)                 # a long answer in flight
    await asyncio.sleep(0.5)
    os._exit(9)                                              # the server dies without shutting down

asyncio.run(main())
"""


def test_worker_processes_do_not_outlive_the_server():
    """A projection worker exits when its server is killed mid-answer (no orphan computing for nobody)."""
    import os
    import subprocess
    import sys
    import time

    res = subprocess.run([sys.executable, "-c", WORKER_PARENT], capture_output=True, text=True, timeout=120,
                         check=False)
    worker = int(res.stdout.split()[0])
    for _ in range(100):  # bounded wait for the worker to notice
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(worker, 9)
        raise AssertionError("the worker process outlived its server")


def test_a_dead_worker_process_gives_503_then_recovers():
    """A projection worker that dies mid-answer gives 503 (retry), and the next request gets a fresh worker."""
    import os

    from mbcpath.web.offload import Offloader, Overloaded

    async def run() -> int:
        off = Offloader(threads=1, processes=1, budget_s=60, max_pending=4)
        try:
            with pytest.raises(Overloaded):
                await off.run_process(os._exit, 3)  # the worker process dies
            return await off.run_process(os.getpid)
        finally:
            off.close()

    assert asyncio.run(run()) != os.getpid()
