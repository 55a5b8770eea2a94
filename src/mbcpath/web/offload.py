"""Keep CPU work off the event loop, within a time budget.

* :meth:`Offloader.run_thread`: a function in a worker thread (the engine: short, pure Python);
* :meth:`Offloader.run_process`: a function in a worker process (projections: seconds of
  NumPy/SciPy on a cold fit, which would otherwise hold the interpreter lock);
* both wait at most ``budget_s`` (a :class:`TimeBudgetExceeded` becomes 504 problem details) and
  refuse new work with :class:`Overloaded` (503, ``Retry-After``) when ``max_pending`` answers are
  already waiting, so that a burst cannot queue without bound.

The loop itself only parses HTTP and JSON and writes responses; ``/healthz`` stays responsive
while the heaviest request runs (tests/web/test_serving_loop.py).

Plain ``concurrent.futures`` executors with ``loop.run_in_executor`` (measured cheaper per call than
AnyIO's ``to_thread``); a request past its budget stops waiting, its worker finishes and the result is
dropped.

References
----------
Python documentation, asyncio "Executing code in thread or process pools" (``loop.run_in_executor``).
https://docs.python.org/3/library/asyncio-eventloop.html#executing-code-in-thread-or-process-pools
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class TimeBudgetExceeded(Exception):
    """The answer was not ready within the per-request time budget."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        super().__init__(f"time budget of {budget_s:g} s exceeded")


class Overloaded(Exception):
    """Too many answers are already waiting for a worker."""


class Offloader:
    """Worker threads and (lazily started) worker processes shared by one app."""

    def __init__(self, *, threads: int, processes: int, budget_s: float, max_pending: int) -> None:
        self.budget_s = budget_s
        self.max_pending = max_pending
        self.processes = processes
        self._thread_pool: ThreadPoolExecutor | None = None
        self._io_pool: ThreadPoolExecutor | None = None
        self._threads = threads
        self._pool: Executor | None = None
        self.pending = 0

    @property
    def threads(self) -> ThreadPoolExecutor:
        if self._thread_pool is None:
            self._thread_pool = ThreadPoolExecutor(self._threads, thread_name_prefix="mbcpath-worker")
        return self._thread_pool

    @property
    def io_threads(self) -> ThreadPoolExecutor:
        if self._io_pool is None:
            self._io_pool = ThreadPoolExecutor(2, thread_name_prefix="mbcpath-io")
        return self._io_pool

    def _admit(self) -> None:
        if self.pending >= self.max_pending:
            raise Overloaded
        self.pending += 1

    async def run_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread, within the budget."""
        return await self._run(self.threads, fn, *args)

    async def run_io(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in an I/O thread (writing the audit trail, ``fsync``), within the budget; apart from the
        CPU workers so that a slow disk never queues behind computations, nor they behind it."""
        return await self._run(self.io_threads, fn, *args)

    async def run_process(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker process (threads when ``processes`` is 0), within the budget.

        ``fn`` and its arguments and result must pickle. A process that outlives its budget finishes
        its work in the background; its answer is dropped.
        """
        if self.processes <= 0:
            return await self.run_thread(fn, *args)
        return await self._run(self._executor(), fn, *args)

    async def _run(self, executor: Executor, fn: Callable[..., T], *args: Any) -> T:
        self._admit()
        try:
            future = asyncio.get_running_loop().run_in_executor(executor, fn, *args)
            return await asyncio.wait_for(future, self.budget_s)
        except TimeoutError:
            raise TimeBudgetExceeded(self.budget_s) from None
        except BrokenExecutor:
            # a worker process died (killed, out of memory): start fresh ones for the next request
            if executor is self._pool:
                self._pool = None
            raise Overloaded from None
        finally:
            self.pending -= 1

    def _executor(self) -> Executor:
        if self._pool is None:
            # "spawn": a fresh interpreter, never a fork of a process that runs threads and an event loop
            self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_exit_with_parent, initargs=(os.getpid(),))
        return self._pool

    def close(self) -> None:
        """Stop the worker threads and processes (called when the app shuts down)."""
        for pool in (self._thread_pool, self._io_pool):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        self._thread_pool = self._io_pool = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _exit_with_parent(parent: int) -> None:
    """In a worker process: exit as soon as the server that started it is gone (killed, crashed), so no
    orphan keeps computing an answer nobody will read."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="mbcpath-parent-watch", daemon=True).start()
