"""Process pools for batch work (refinement scoring, exploration rendering): forked workers that leave with
their parent, and results streamed back in submission order with early stop.

Forked, where the platform allows, so that numba's compiled kernels and the caller's state are inherited.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any


def fork_pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """A pool of `workers` processes; each runs `initializer(*initargs)` and exits when this process dies."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_start_worker, initargs=(os.getpid(), initializer, initargs)
    )


def ordered_results(
    pool: ProcessPoolExecutor,
    fn: Callable[..., Any],
    batch: Sequence[Any],
    stop: Callable[[], bool],
    *args: Any,
) -> Iterator[Any]:
    """`fn(item, *args)` for each item of `batch`, in order; stops (pending work cancelled) once `stop()`."""
    futures: list[Future[Any]] = [pool.submit(fn, item, *args) for item in batch]
    try:
        for future in futures:
            if stop():
                return
            yield future.result()
    finally:
        for future in futures:
            future.cancel()


def _start_worker(parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    _exit_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


def _exit_with_parent(parent: int, poll_s: float = 1.0) -> None:
    """Leave when the parent dies. A killed parent (SIGKILL, OOM, a crash) cannot shut its pool down, and an
    idle worker blocked on its queue would otherwise live on as an orphan."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
