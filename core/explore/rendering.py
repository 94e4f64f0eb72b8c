"""Rendering candidates in worker processes while the judge works in this one.

Why this split: judges are not fork-safe (torch threads, GPU contexts, HTTP sessions) and a VLM must
stay in one process, while rendering is pure numpy/numba. With the renders of a whole generation queued
on the pool, the judge scores candidate k while the workers draw k+1 and k+2, so on two cores a step
costs about max(render / workers, judge) instead of render + judge. Images come back in submission order.
The pool is forked (numba's compiled kernels are inherited) right after this process has rendered once.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import numpy as np

from core.render import render


class RenderPool:
    """Renders batches of params at one size; `workers` 1 renders here, lazily. A context manager."""

    def __init__(self, width: int, height: int, quality: str = "fast", workers: int = 1) -> None:
        self.size, self.quality, self.workers = (width, height), quality, workers
        self._pool: ProcessPoolExecutor | None = None

    def render(self, params: dict[str, Any]) -> np.ndarray:
        """One image in this process (uint8 (h, w, 3))."""
        return render(params, *self.size, self.quality)

    def __enter__(self) -> RenderPool:
        if self.workers > 1:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=ctx, initializer=_exit_with_parent, initargs=(os.getpid(),)
            )
            blank: dict[str, Any] = {}
            for future in [self._pool.submit(_noop, blank) for _ in range(self.workers)]:
                future.result()  # start every worker now, before the caller loads a judge
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def images(self, batch: Sequence[dict[str, Any]], stop: Callable[[], bool]) -> Iterator[np.ndarray]:
        """Images of `batch` in order; stops (pending renders cancelled) once `stop()` is true."""
        if self._pool is None:
            for params in batch:
                if stop():
                    return
                yield self.render(params)
            return
        futures: list[Future[np.ndarray]] = [
            self._pool.submit(render, p, *self.size, self.quality) for p in batch
        ]
        try:
            for future in futures:
                if stop():
                    return
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _noop(value: dict[str, Any]) -> dict[str, Any]:
    return value


def _exit_with_parent(parent: int, poll_s: float = 1.0) -> None:
    """Worker initializer: leave when the parent dies. A killed parent (SIGKILL, OOM, a crash) cannot shut
    its pool down, and an idle worker blocked on its queue would otherwise live on as an orphan."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
