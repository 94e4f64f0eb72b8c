"""Rendering candidates in worker processes while the judge works in this one.

Why this split: judges are not fork-safe (torch threads, GPU contexts, HTTP sessions) and a VLM must
stay in one process, while rendering is pure numpy/numba. With the renders of a whole generation queued
on the pool, the judge scores candidate k while the workers draw k+1 and k+2, so on two cores a step
costs about max(render / workers, judge) instead of render + judge. Images come back in submission order.
On Linux the pool is forked (numba's compiled kernels are inherited) right after this process has rendered
once; elsewhere it is spawned (core.workers.start_method). A long-lived caller (the app) can keep one pool
for all its runs (core.shared_pool).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from typing import Any

import numpy as np

from core.render import render
from core.shared_pool import run_pool
from core.workers import ordered_results


class RenderPool:
    """Renders batches of params at one size; `workers` 1 renders here, lazily. A context manager.

    shared: render in this process's shared pool of that size (core.shared_pool), kept after the run."""

    def __init__(
        self, width: int, height: int, quality: str = "fast", workers: int = 1, *, shared: bool = False
    ) -> None:
        self.size, self.quality, self.workers, self.shared = (width, height), quality, workers, shared
        self._pool: ProcessPoolExecutor | None = None
        self._held = ExitStack()

    def render(self, params: dict[str, Any]) -> np.ndarray:
        """One image in this process (uint8 (h, w, 3))."""
        return render(params, *self.size, self.quality)

    def __enter__(self) -> RenderPool:
        if self.workers > 1:
            with ExitStack() as held:
                self._pool = held.enter_context(run_pool(self.workers, shared=self.shared))
                blank: dict[str, Any] = {}
                for future in [self._pool.submit(_noop, blank) for _ in range(self.workers)]:
                    future.result()  # start every worker now, before the caller loads a judge
                self._held = held.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self._held.close()
        self._pool = None

    def images(self, batch: Sequence[dict[str, Any]], stop: Callable[[], bool]) -> Iterator[np.ndarray]:
        """Images of `batch` in order; stops (pending renders cancelled) once `stop()` is true."""
        if self._pool is None:
            for params in batch:
                if stop():
                    return
                yield self.render(params)
            return
        yield from ordered_results(self._pool, render, batch, stop, *self.size, self.quality)


def _noop(value: dict[str, Any]) -> dict[str, Any]:
    return value
