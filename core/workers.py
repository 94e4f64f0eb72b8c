"""Process pools for batch work (refinement scoring, exploration rendering): workers that leave with their
parent, and results streamed back in submission order with early stop.

Forked on Linux, so that numba's compiled kernels and the caller's state are inherited and a worker starts in
milliseconds; spawned elsewhere (`start_method`).

BLAS stays on one thread in the workers and, through `one_blas_thread`, in a parent while it drives them:
numpy's OpenBLAS threads spin-wait after a threaded call (CMA-ES's matrices, the renderer's products),
and on 2 cores that spinning took the core a worker needed. `python -m benchmarks.throughput --n 6` before
/ after: on the two targets whose starts have 2 and 3 layers (the other four have one), one in-process
worker burned 15.5 and 14.4 CPU seconds per 8-s run (now 8.2) and 2 workers scored 2218 and 1513
candidates (now 3114 and 2158); over the 6 targets 2 workers went from 1.18× one worker's rate to 1.37×.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from threadpoolctl import ThreadpoolController

T = TypeVar("T")


def usable_cores() -> int:
    """The CPU cores this process may run on: its affinity where the OS has one (Linux), else every core
    (macOS, Windows: `os.sched_getaffinity` does not exist there)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


START_METHOD_ENV = "BB_START_METHOD"
"""Environment variable that names the pools' start method ("fork" or "spawn"), overriding the platform's."""
START_METHODS = ("fork", "spawn")


def start_method() -> str:
    """How `fork_pool` starts its workers: "fork" on Linux, "spawn" elsewhere, or what BB_START_METHOD says.

    Why not fork everywhere: on macOS the system libraries start threads of their own, and a child forked
    from a threaded process can crash or hang there (CPython made spawn macOS's default in 3.8, bpo-33725);
    the app forks its refinement workers from a process full of server threads, on the designer's laptop.
    A spawned worker imports the renderer and loads numba's cached kernels instead of inheriting them
    (`python -m benchmarks.throughput` measures both: set BB_START_METHOD). "forkserver" is not offered:
    its workers are not this process's children, and they leave with their parent (`_exit_with_parent`)."""
    chosen = os.environ.get(START_METHOD_ENV, "").strip().lower()
    if chosen:
        if chosen not in START_METHODS:
            raise ValueError(f"{START_METHOD_ENV}={chosen!r}: choose one of {', '.join(START_METHODS)}")
        return chosen
    return "fork" if sys.platform.startswith("linux") else "spawn"


def fork_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` processes (started as `start_method` says) that exit when this process dies.
    Per-run state goes with the tasks (core.shared_pool.Staged), not in an initializer, so that a pool can
    outlive its run."""
    ctx = multiprocessing.get_context(start_method())
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=_start_worker, initargs=(os.getpid(),))


def ordered_results(
    pool: ProcessPoolExecutor,
    fn: Callable[..., Any],
    batch: Sequence[Any],
    stop: Callable[[], bool],
    *args: Any,
    chunks: int | None = None,
) -> Iterator[Any]:
    """`fn(item, *args)` for each item of `batch`, in order; stops (pending work cancelled) once `stop()`.

    chunks: the batch travels as that many contiguous tasks (None: one task per item). One task per item
    pays the pool's round trip (pickling, queues, wake-ups across processes) per item; for millisecond
    items on 2 cores that cost more than the second core gave. `stop()` is still checked before each
    item is yielded, so the items seen are the same either way.
    """
    size = 1 if chunks is None else chunk_size(len(batch), chunks)
    parts = [batch[i : i + size] for i in range(0, len(batch), size)]
    futures: list[Future[Any]] = [pool.submit(_run_chunk, fn, part, args) for part in parts]
    try:
        for future in futures:
            if stop():
                return
            for value in future.result():
                if stop():
                    return
                yield value
    finally:
        for future in futures:
            future.cancel()


def chunk_size(n_items: int, n_chunks: int) -> int:
    """Items per chunk to split n_items into at most n_chunks nearly equal chunks (at least 1)."""
    return max(1, -(-n_items // max(1, n_chunks)))


def _run_chunk(fn: Callable[..., Any], chunk: Sequence[Any], args: tuple[Any, ...]) -> list[Any]:
    return [fn(item, *args) for item in chunk]


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread in this process while the context lasts (see the module docstring).

    Counted across threads: the limit is set by the first caller in and lifted by the last one out, so two
    refinements that overlap in one process (two app sessions) do not leave it set, or lift it early."""
    global _blas_users, _blas_limiter
    with _blas_lock:
        if _blas_users == 0:
            _blas_limiter = _thread_pools().limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0 and _blas_limiter is not None:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


def on_one_blas_thread(events: Iterator[T]) -> Iterator[T]:
    """`events` (a run's event stream), each one computed with BLAS on one thread; between events the
    caller's own threads. Closing this closes `events` (a run that owns a pool shuts it down)."""
    try:
        while True:
            with one_blas_thread():
                event = next(events, _END)
            if event is _END:
                return
            yield event
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()


_END: Any = object()
_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter: Any = None


def _thread_pools() -> ThreadpoolController:
    """The process's native thread pools. Finding them costs ≈ 1 ms (a limit then ≈ 6 µs), so they are
    found again only after new modules were imported (a module may bring its own BLAS: torch does)."""
    global _pools, _pools_modules
    if _pools is None or len(sys.modules) != _pools_modules:
        import numpy  # noqa: F401  (its BLAS is the one the loops use)

        _pools, _pools_modules = ThreadpoolController(), len(sys.modules)
    return _pools


_pools: ThreadpoolController | None = None
_pools_modules = 0


def _start_worker(parent: int) -> None:
    _exit_with_parent(parent)
    # Ctrl-C reaches the whole process group; the parent decides what it means (core.interrupt: stop and
    # keep the best so far). A worker dying of it would break the pool under the run it should finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _thread_pools().limit(limits=1, user_api="blas")  # not undone: the worker lives for this work only
    keep_freed_memory()


MMAP_THRESHOLD = 16 << 20
TRIM_THRESHOLD = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


def keep_freed_memory() -> bool:
    """With glibc, keep up to TRIM_THRESHOLD of freed memory in this process's heap, and serve blocks up to
    MMAP_THRESHOLD from it; True where that applied (glibc), False elsewhere.

    Why: a spawned worker starts with a small heap, and glibc handed each candidate's arrays (a few MB)
    back to the OS and mapped them again for the next: 500–640 page faults per candidate, and 13 % more
    time per candidate than a forked worker, which inherits its parent's grown heap and showed 0.3 (an
    ad-hoc profile of 192 candidates in one worker, 2026-11-30: 98–123 thousand faults against 57–68).
    macOS's allocator is another one and was not measured."""
    try:
        os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):
        return False
    libc = ctypes.CDLL(None)
    set_mmap = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    set_trim = libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    return bool(set_mmap and set_trim)  # mallopt returns 1 on success


def _exit_with_parent(parent: int, poll_s: float = 1.0) -> None:
    """Leave when the parent dies. A killed parent (SIGKILL, OOM, a crash) cannot shut its pool down, and an
    idle worker blocked on its queue would otherwise live on as an orphan."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
