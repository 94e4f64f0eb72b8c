"""Worker pools kept across runs in one long-lived process (the app), and per-run state sent to them once.

Why: on macOS the workers are spawned (core.workers.start_method), and a spawned worker imports the
renderer and loads numba's kernels before its first result (≈ 1 s here), then loads more as a run reaches
new code. A pool started once per app session pays that once, not on every Refine or Explore click: four
app refines of 1200 evaluations in one session took 47–53 s each with a pool per run, 40–45 s with the
shared one (spawned here, 2026-11-30; benchmarks/RESULTS.md).

A run's own state (a refinement's scorer holds its target: ≈ 1.3 MB pickled) must then travel with the
tasks rather than in the pool's initializer. `Staged` pickles it to a file once; each task carries only
the file's path, and each worker unpickles it on the first task that names it and keeps it for the rest.
A run killed outright (SIGKILL, a crash) cannot delete its file; the file names its process, and the next
Staged of any process deletes the files of processes that are gone.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Generic, TypeVar

from core.workers import fork_pool

T = TypeVar("T")

KEPT_IN_WORKER = 4
"""Staged values a worker keeps (the newest): two app sessions refining at once use two."""


@contextmanager
def shared_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """The process's pool of `workers` workers while the context lasts: started on first use, then kept for
    the next caller (a broken one is replaced). A pool of another size is shut down once no caller holds it,
    so a changed worker setting leaves no idle processes behind. Do not shut the pool down yourself."""
    with _lock:
        pool = _pools.get(workers)
        if pool is None or _broken(pool):
            pool = _pools[workers] = fork_pool(workers)
        _holders[workers] = _holders.get(workers, 0) + 1
        for size in [n for n in _pools if n != workers and not _holders.get(n)]:
            _pools.pop(size).shutdown(wait=False, cancel_futures=True)
    try:
        yield pool
    finally:
        with _lock:
            _holders[workers] -= 1


@contextmanager
def run_pool(workers: int, *, shared: bool) -> Iterator[ProcessPoolExecutor]:
    """A pool for one run: the process's shared pool of `workers` (kept afterwards) when `shared`, else a
    pool of the run's own, shut down when the context ends."""
    if shared:
        with shared_pool(workers) as pool:
            yield pool
        return
    pool = fork_pool(workers)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def warm_shared_pool(workers: int, task: Callable[..., Any], *args: Any) -> None:
    """Start the shared pool of `workers` now, and run `task(*args)` on it once per worker (a small render
    loads the renderer's kernels in a spawned worker), so that the first run finds it warm."""
    with shared_pool(workers) as pool:
        for future in [pool.submit(task, *args) for _ in range(workers)]:
            future.result()


def close_shared_pools() -> None:
    """Shut every shared pool down (tests; a process that wants its workers gone before it exits)."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


def _broken(pool: ProcessPoolExecutor) -> bool:
    """Whether a worker died (OOM, a crash) and the pool refuses work: ProcessPoolExecutor keeps that in
    `_broken` (a reason string) since Python 3.8 and has no public accessor."""
    return bool(getattr(pool, "_broken", False))


_lock = threading.Lock()
_pools: dict[int, ProcessPoolExecutor] = {}
_holders: dict[int, int] = {}


class Staged(Generic[T]):
    """`value` as an argument of pool tasks, sent once per worker instead of once per task.

    Pickling a Staged pickles a call that, in the worker, returns the value itself (loaded from the file on
    first use, then kept), so a task function takes the plain value either way. Close it (or use it as a
    context manager) once the run's tasks are done: that deletes the file."""

    def __init__(self, value: T) -> None:
        remove_orphaned_staged_files()
        descriptor, self.path = tempfile.mkstemp(prefix=f"{STAGED_PREFIX}{os.getpid()}-", suffix=".pickle")
        with os.fdopen(descriptor, "wb") as file:
            pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _staged_value, (self.path,)

    def close(self) -> None:
        with suppress(FileNotFoundError):
            os.unlink(self.path)

    def __enter__(self) -> Staged[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


STAGED_PREFIX = "bb-staged-"
_STAGED_NAME = re.compile(re.escape(STAGED_PREFIX) + r"(\d+)-.*\.pickle")


def remove_orphaned_staged_files() -> list[Path]:
    """Delete the temp folder's staged files whose process no longer runs (killed before it could delete
    them; ≈ 1.3 MB each) and return their paths. Files of running processes, or of any process where
    liveness cannot be checked safely (Windows: os.kill would end the process), are left alone."""
    if os.name != "posix":
        return []
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{STAGED_PREFIX}*.pickle"):
        match = _STAGED_NAME.fullmatch(path.name)
        if match is None or process_running(int(match.group(1))):
            continue
        with suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def process_running(pid: int) -> bool:
    """Whether a process runs under `pid` (POSIX only: on Windows os.kill would end it)."""
    try:
        os.kill(pid, 0)  # signal 0: only the checks, nothing is sent
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _staged_value(path: str) -> Any:
    """In a worker: the value staged at `path`, unpickled on first use and then kept (the newest few)."""
    if path in _kept:
        _kept.move_to_end(path)
        return _kept[path]
    with open(path, "rb") as file:
        value = pickle.load(file)
    _kept[path] = value
    while len(_kept) > KEPT_IN_WORKER:
        _kept.popitem(last=False)
    return value


_kept: OrderedDict[str, Any] = OrderedDict()
