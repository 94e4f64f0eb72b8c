"""A bounded pool that runs renders off the event loop.

At most `workers` renders run at once; at most `max_waiting` more wait for a slot (on the event loop, at no
cost to it); beyond that `run` raises `PoolBusy` at once, which the API answers with 503 so clients back
off instead of piling up an unbounded queue. A slot is freed when the worker really finishes, not when
the waiting request goes away, so a disconnected client cannot push more jobs into the executor than
there are workers.

kind "thread" (the default): the rasteriser kernels are numba `nogil` code, measured at 78 % of a render's
wall time at 256² and 88 % at 1024² (weighted-sampler scenes), and zlib releases the GIL while encoding, so
threads render in parallel with no pickling and no per-process copies of numba and numpy. Measured on the
2-core machine (shared with other jobs) through the API: as much throughput as spawned processes and ~1.5–2
ms less CPU per request (pickling and pipes). The GIL-held share (≤ 22 % at 256²) caps a thread pool at
about 4–5 renders' worth of parallelism, so on many-core machines kind "process" (spawned workers, the GIL
escaped entirely, a crashed worker replaced by a fresh pool) scales further.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, TypeVar

from core.workers import usable_cores

log = logging.getLogger("app.api")

T = TypeVar("T")
KINDS = ("thread", "process")


def default_workers() -> int:
    """The CPU cores this process may use: renders are CPU-bound, so more workers only queue inside."""
    return usable_cores()


class PoolBusy(RuntimeError):
    """Every worker is rendering and the waiting line is full."""


class RenderPool:
    """Runs blocking callables in `workers` threads or processes, bounded as the module docstring says."""

    def __init__(
        self,
        kind: str = "thread",
        workers: int | None = None,
        max_waiting: int = 64,
        warm_up: Callable[[], Any] | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown pool kind {kind!r}; use one of {KINDS}")
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if max_waiting < 0:
            raise ValueError(f"max_waiting must be at least 0, got {max_waiting}")
        self.kind = kind
        self.workers = workers or default_workers()
        self.max_waiting = max_waiting
        self.busy = 0
        self.waiting = 0
        self.done = 0
        self.failed = 0
        self._warm_up = warm_up
        self._warming: list[Future[Any]] = []
        self._executor: Executor | None = None
        self._slots: asyncio.Semaphore | None = None  # made on first use, inside the serving loop

    def _get_executor(self) -> Executor:
        if self._executor is None:
            if self.kind == "thread":
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="render")
            else:  # spawn: forking a process that runs an event loop and threads is unsafe
                self._executor = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"))
            if self._warm_up is not None:  # one job per worker starts every worker and loads its kernels
                self._warming = [self._executor.submit(self._warm_up) for _ in range(self.workers)]
        return self._executor

    def start(self) -> None:
        """Start the workers and warm them up now rather than on the first request (does not wait)."""
        self._get_executor()

    @property
    def ready(self) -> bool:
        """Whether the warm-up jobs have finished (requests before that simply wait behind them)."""
        return all(f.done() for f in self._warming)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker; raises PoolBusy when the waiting line is full."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        if self._slots.locked() and self.waiting >= self.max_waiting:
            raise PoolBusy(f"all {self.workers} render workers are busy and {self.waiting} requests wait")
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        self.busy += 1
        loop = asyncio.get_running_loop()
        try:
            executor = self._get_executor()
            future = executor.submit(fn, *args)
        except BaseException:
            self._finish(None, None)
            raise
        future.add_done_callback(lambda f: self._notify(loop, f, executor))
        return await asyncio.wrap_future(future, loop=loop)

    def _notify(self, loop: asyncio.AbstractEventLoop, future: Future[Any], executor: Executor) -> None:
        # RuntimeError: the loop has closed (server shut down mid-render), so there is nothing to release.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._finish, future, executor)

    def _finish(self, future: Future[Any] | None, executor: Executor | None) -> None:
        self.busy -= 1
        assert self._slots is not None
        self._slots.release()
        if future is None or future.cancelled():
            return
        exc = future.exception()
        if exc is None:
            self.done += 1
            return
        self.failed += 1
        if isinstance(exc, BrokenProcessPool) and executor is not None and executor is self._executor:
            log.error("render process pool broke (a worker died); starting a fresh one")
            executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def stats(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "workers": self.workers,
            "busy": self.busy,
            "waiting": self.waiting,
            "max_waiting": self.max_waiting,
            "ready": self.ready,
        }

    def close(self) -> None:
        """Stop taking work and cancel queued jobs. Threads finish their render in the background; processes
        are waited for (at most one render each), so none outlives the server with its pipes and locks."""
        if self._executor is not None:
            self._executor.shutdown(wait=self.kind == "process", cancel_futures=True)
            self._executor = None
