"""core.workers: chunked ordered results and the one-thread BLAS limit, in the parent and in pool workers."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import numpy  # noqa: F401  (its BLAS: what the limit is about, loaded whatever runs first)
import pytest
from threadpoolctl import threadpool_info

from core.workers import (
    chunk_size,
    fork_pool,
    keep_freed_memory,
    on_one_blas_thread,
    one_blas_thread,
    ordered_results,
    start_method,
    usable_cores,
)


def _square(x: int, offset: int = 0) -> int:
    return x * x + offset


def _blas_threads(_: object = None) -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


@pytest.mark.parametrize(("n", "chunks", "size"), [(12, 2, 6), (13, 2, 7), (3, 8, 1), (0, 2, 1), (5, 1, 5)])
def test_chunk_size_covers_the_batch_in_at_most_that_many_chunks(n: int, chunks: int, size: int) -> None:
    assert chunk_size(n, chunks) == size
    assert -(-n // size) <= max(1, chunks)


@pytest.mark.parametrize("chunks", [None, 1, 2, 3, 50])
def test_results_come_back_in_order_whatever_the_chunking(chunks: int | None) -> None:
    batch = list(range(17))
    with fork_pool(2) as pool:
        got = list(ordered_results(pool, _square, batch, lambda: False, 3, chunks=chunks))
    assert got == [x * x + 3 for x in batch]


@pytest.mark.parametrize("chunks", [None, 2])
def test_stop_is_checked_before_every_item_even_inside_a_chunk(chunks: int | None) -> None:
    seen: list[int] = []
    with fork_pool(2) as pool:
        for value in ordered_results(pool, _square, list(range(10)), lambda: len(seen) >= 4, chunks=chunks):
            seen.append(value)
    assert seen == [0, 1, 4, 9]


@pytest.mark.parametrize(("platform", "method"), [("linux", "fork"), ("darwin", "spawn"), ("win32", "spawn")])
def test_workers_fork_on_linux_only(monkeypatch: pytest.MonkeyPatch, platform: str, method: str) -> None:
    """macOS's system libraries start threads, and a child forked from a threaded process (the app) can
    crash there: CPython's own default on macOS is spawn."""
    monkeypatch.delenv("BB_START_METHOD", raising=False)
    monkeypatch.setattr("sys.platform", platform)
    assert start_method() == method


def test_the_start_method_can_be_chosen_and_a_wrong_one_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("BB_START_METHOD", " Spawn ")
    assert start_method() == "spawn"
    monkeypatch.setenv("BB_START_METHOD", "forkserver")
    with pytest.raises(ValueError, match="BB_START_METHOD='forkserver': choose one of fork, spawn"):
        start_method()


def test_a_spawned_pool_keeps_order_stop_blas_and_ctrl_c(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the forked pool's tests check, once, on the path macOS takes."""
    monkeypatch.setenv("BB_START_METHOD", "spawn")
    monkeypatch.setattr(f"{__name__}._MARK", "set in the parent")
    seen: list[int] = []
    with fork_pool(2) as pool:
        assert pool.submit(_mark).result(timeout=60) == "as imported"  # spawned: nothing inherited
        assert list(ordered_results(pool, _square, list(range(9)), lambda: False, 1, chunks=2)) == [
            x * x + 1 for x in range(9)
        ]
        for value in ordered_results(pool, _square, list(range(10)), lambda: len(seen) >= 3, chunks=2):
            seen.append(value)
        if _blas_threads():
            assert all(set(threads) == {1} for threads in pool.map(_blas_threads, range(4)))
        pid = pool.submit(_pid).result(timeout=60)
        assert pid != os.getpid()
        os.kill(pid, signal.SIGINT)
        time.sleep(0.3)
        assert pid in {pool.submit(_pid).result(timeout=60) for _ in range(4)}  # alive, still working
    assert seen == [0, 1, 4]


def _page_faults_of_churn(_: object = None) -> int:
    """Minor page faults while arrays of 1, 2 and 3 MB are made and dropped 50 times (a candidate's work)."""
    import resource

    import numpy as np

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(50):
        arrays = [np.ones(n << 20, np.uint8) for n in (1, 2, 3)]
        del arrays
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_a_spawned_worker_keeps_freed_memory_instead_of_faulting_it_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A spawned worker's small heap gave each round's 6 MB back to glibc's OS and faulted it in again:
    75 thousand page faults for this churn in a plain spawned process, against one growth of the heap
    (≈ 1500 pages) with `keep_freed_memory`."""
    if not keep_freed_memory():
        pytest.skip("not glibc: its allocator keeps freed memory its own way")
    monkeypatch.setenv("BB_START_METHOD", "spawn")
    with fork_pool(1) as pool:
        assert pool.submit(_page_faults_of_churn).result(timeout=60) < 3000


def test_one_blas_thread_limits_and_restores() -> None:
    before = _blas_threads()
    if not before:
        pytest.skip("no BLAS thread pool is loaded in this process")
    with one_blas_thread():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


def test_pool_workers_run_blas_on_one_thread() -> None:
    if not _blas_threads():
        pytest.skip("no BLAS thread pool is loaded in this process")
    with fork_pool(2) as pool:
        per_worker = list(pool.map(_blas_threads, range(4)))
    assert all(set(threads) == {1} for threads in per_worker)


def _pid(_: object = None) -> int:
    return os.getpid()


_MARK = "as imported"


def _mark(_: object = None) -> str:
    return _MARK


def test_pool_workers_leave_ctrl_c_to_their_parent() -> None:
    """Ctrl-C reaches the whole process group; a worker must not die of it under the run it serves."""
    with fork_pool(1) as pool:
        pid = pool.submit(_pid).result(timeout=30)
        os.kill(pid, signal.SIGINT)
        time.sleep(0.3)
        assert pool.submit(_pid).result(timeout=30) == pid  # the same worker, alive, still working


def test_overlapping_users_keep_the_limit_until_the_last_one_leaves() -> None:
    """Two refinements in one process (two app sessions) enter and leave in any order."""
    before = _blas_threads()
    if not before or set(before) == {1}:
        pytest.skip("BLAS runs on one thread here already: nothing to tell apart")
    first, second = one_blas_thread(), one_blas_thread()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first one out: the second still computes
    assert set(_blas_threads()) == {1}
    second.__exit__(None, None, None)
    assert _blas_threads() == before


def test_usable_cores_where_the_os_has_no_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    """macOS (the designer's laptop) has no os.sched_getaffinity: every core counts."""
    import os

    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert usable_cores() == 8
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert usable_cores() == 1


def test_refinement_defaults_to_two_workers_on_a_mac(monkeypatch: pytest.MonkeyPatch) -> None:
    """It used to fall back to one worker wherever os.sched_getaffinity is missing."""
    import os

    from core.refine.evaluate import default_workers

    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert default_workers() == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert default_workers() == 1


def test_an_event_stream_computes_on_one_blas_thread_and_closes_with_its_caller() -> None:
    before = _blas_threads()
    if not before or set(before) == {1}:
        pytest.skip("BLAS runs on one thread here already: nothing to tell apart")
    inside: list[list[int]] = []
    closed: list[bool] = []

    def stream() -> Iterator[int]:
        try:
            for i in range(3):
                inside.append(_blas_threads())
                yield i
        finally:
            closed.append(True)

    events = on_one_blas_thread(stream())
    assert next(events) == 0 and _blas_threads() == before  # the caller's own threads between events
    assert next(events) == 1
    events.close()
    assert closed == [True] and all(set(t) == {1} for t in inside) and len(inside) == 2
    assert list(on_one_blas_thread(iter(range(3)))) == [0, 1, 2]
