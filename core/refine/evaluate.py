"""Scoring candidates: render at the loss's size, score; one process or a pool, same results in order.

Results come back in submission order whatever the worker count, so a seeded run gives the same best
params with 1 or 2 workers. On Linux the pool is forked from a process that has already rendered once
(numba's compiled kernels are inherited, so a worker starts in milliseconds instead of seconds); elsewhere
it is spawned (core.workers.start_method), and a long-lived caller (the app) can keep one pool for all its
runs (core.shared_pool). The scorer is sent once per worker rather than once per task (`Staged`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from core.imageio import resize
from core.refine.loss import Loss
from core.render import render
from core.shared_pool import Staged, run_pool
from core.workers import ordered_results, usable_cores

T = TypeVar("T")

MAX_SUPERSAMPLE = 4
CHUNKS_PER_WORKER = 1
"""Tasks per worker and batch (core.workers.ordered_results). Candidates scored in 8 s with 2 workers on 4
held-out synthetic targets (ad-hoc script, same seeded runs): one task per candidate 3095 / 5252 / 3228 /
1724, one per worker 3114 / 6455 / 3198 / 1678, two per worker 2888 / 5724 / 3240 / 1636: a tie but on
the cheapest candidates, where the round trips weigh most."""


def default_workers() -> int:
    """Scoring processes when the caller does not say (the app, `core.refine`, `train.validate`): 2 where
    there are 2 cores or more. On 2 cores 2 workers score 1.4× the candidates of 1 and 3 workers 1.2×
    (`python -m benchmarks.throughput --workers 1,2,3`). More cores were not measured here: the app's
    slider, and that benchmark with a longer --workers list, are for machines that have them."""
    return min(2, usable_cores())


def checked_supersample(k: int) -> int:
    """`k` when it is a supersampling factor the scorer takes (1…MAX_SUPERSAMPLE); else ValueError."""
    if not 1 <= k <= MAX_SUPERSAMPLE:
        raise ValueError(f"supersample must be 1…{MAX_SUPERSAMPLE}, not {k}")
    return k


@dataclass(frozen=True)
class Scorer:
    """Params → loss: the one function a worker runs.

    supersample k > 1 renders each candidate at k× the loss's size and area-averages it down, as the
    target was: strokes thinner than a working pixel and the per-pixel grain of the Noise pass come out
    as they do in a downscaled full-size render, not as the renderer draws them at 160 px (measured:
    a noisy synthetic target's own params scored 0.55 at 160 px, 0.00 rendered at 2× and averaged).
    """

    loss: Loss
    quality: str = "fast"
    supersample: int = 1

    def __post_init__(self) -> None:
        checked_supersample(self.supersample)

    def image(self, params: dict[str, Any]) -> np.ndarray:
        """The candidate at the loss's size: uint8 (h, w, 3), or float32 in [0, 1] when supersampled."""
        w, h = self.loss.size
        if self.supersample == 1:
            return render(params, w, h, quality=self.quality)
        k = self.supersample
        big = render(params, k * w, k * h, quality=self.quality)
        return resize(big.astype(np.float32) / 255.0, w, h)

    def scored_image(self, params: dict[str, Any]) -> tuple[float, np.ndarray]:
        """(loss, the image it scored): for callers that go on to use the render (registration)."""
        image = self.image(params)
        value = float(self.loss(image))
        return (value if np.isfinite(value) else float("inf")), image

    def __call__(self, params: dict[str, Any]) -> float:
        return self.scored_image(params)[0]


def score_task(params: dict[str, Any], scorer: Scorer) -> float:
    """`scorer(params)`, as a task for `Evaluator.map` (a worker gets the scorer staged)."""
    return scorer(params)


class Evaluator:
    """Scores batches with `workers` processes (1: in this process, no pool). Use as a context manager.

    shared: use this process's shared pool of that size (core.shared_pool), kept after the run for the
    next one, instead of a pool of the run's own."""

    def __init__(self, scorer: Scorer, workers: int = 1, *, shared: bool = False) -> None:
        if workers < 1:
            raise ValueError(f"workers must be ≥ 1, not {workers}")
        self.scorer, self.workers, self.shared = scorer, workers, shared
        self._pool: ProcessPoolExecutor | None = None
        self._staged: Staged[Scorer] | None = None
        self._held = ExitStack()

    def __enter__(self) -> Evaluator:
        if self.workers > 1:
            with ExitStack() as held:  # unwound in reverse: the workers are done before the file goes
                self._staged = held.enter_context(Staged(self.scorer))
                self._pool = held.enter_context(run_pool(self.workers, shared=self.shared))
                self._held = held.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Delete the staged scorer and give the pool back (a run's own pool is shut down)."""
        self._held.close()
        self._pool = self._staged = None

    def scores(self, batch: Sequence[dict[str, Any]], stop: Callable[[], bool]) -> Iterator[float]:
        """Losses of `batch` in order; stops early (pending work cancelled) once `stop()` is true."""
        if self._pool is None:
            for params in batch:
                if stop():
                    return
                yield self.scorer(params)
            return
        yield from self._mapped(score_task, batch, stop)

    def map(self, fn: Callable[[Any, Scorer], T], items: Sequence[Any]) -> list[T]:
        """`fn(item, scorer)` for each item, in order, in the workers (or here with 1): for work around the
        score that is best done where the render is (a registration needs the image, which then stays)."""
        if self._pool is None:
            return [fn(item, self.scorer) for item in items]
        return list(self._mapped(fn, items, lambda: False))

    def _mapped(
        self, fn: Callable[[Any, Scorer], T], items: Sequence[Any], stop: Callable[[], bool]
    ) -> Iterator[T]:
        assert self._pool is not None and self._staged is not None, "use the Evaluator as a context manager"
        chunks = self.workers * CHUNKS_PER_WORKER
        yield from ordered_results(self._pool, fn, items, stop, self._staged, chunks=chunks)
