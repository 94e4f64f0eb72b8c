"""core.shared_pool: one pool kept across runs, and per-run state sent to each worker once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest

from core.shared_pool import Staged, close_shared_pools, process_running, shared_pool, warm_shared_pool
from core.workers import fork_pool, ordered_results


@pytest.fixture(autouse=True)
def fresh_pools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No pool left over from another test, staged files in this test's folder, no pool left behind."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    close_shared_pools()
    yield
    close_shared_pools()


def _pid(_: object = None) -> int:
    return os.getpid()


def _identity_in_worker(item: int, value: dict[str, np.ndarray]) -> tuple[int, int, float]:
    """(worker pid, id of the value it holds, the value's sum + item): a task that takes a staged value."""
    return os.getpid(), id(value), float(value["a"].sum()) + item


def test_a_task_gets_the_staged_value_itself_loaded_once_per_worker(tmp_path: Path) -> None:
    value = {"a": np.arange(1000, dtype=np.float32)}
    with fork_pool(2) as pool, Staged(value) as staged:
        results = list(ordered_results(pool, _identity_in_worker, list(range(40)), lambda: False, staged))
    assert [r[2] for r in results] == [float(value["a"].sum()) + i for i in range(40)]
    held = {}  # each worker holds one copy for all its tasks: unpickled once, not once per task
    for pid, ident, _ in results:
        assert held.setdefault(pid, ident) == ident
    assert list(tmp_path.glob("bb-staged-*")) == []  # closing the Staged deleted its file


def worker_pids(pool: ProcessPoolExecutor) -> set[int]:
    """The pool's worker processes (ProcessPoolExecutor keeps them in `_processes`, by pid)."""
    return set(getattr(pool, "_processes", {}))


def test_the_same_size_finds_the_same_pool_and_workers() -> None:
    with shared_pool(2) as pool:
        pool.submit(_pid).result()
        first = worker_pids(pool)
    with shared_pool(2) as again:
        assert again is pool
        assert again.submit(_pid).result() in first and worker_pids(again) == first


def test_a_pool_of_another_size_is_shut_down_once_nobody_holds_it() -> None:
    with shared_pool(2) as two:
        with shared_pool(3) as three:  # two is held: kept
            assert three is not two
            assert two.submit(_pid).result() > 0
        with shared_pool(3):  # three's holder left, but it is the size asked for: kept
            pass
    with shared_pool(3) as three_again:
        assert three_again is three
    with pytest.raises(RuntimeError, match="shutdown"):
        two.submit(_pid)  # asking for 3 with 2 idle shut 2 down


def test_a_broken_pool_is_replaced() -> None:
    with shared_pool(2) as pool:
        pid = pool.submit(_pid).result()
        os.kill(pid, signal.SIGKILL)
        getattr(pool, "_processes", {})[pid].join(timeout=30)  # dead before the pool is asked again
        with pytest.raises(BrokenProcessPool):
            for _ in range(50):  # the pool notices the death on its next use
                pool.submit(_pid).result()
    with shared_pool(2) as replaced:
        assert replaced is not pool
        assert replaced.submit(_pid).result() != pid


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_warming_starts_every_worker_before_the_first_run(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spawned pool starts its workers one per task that finds none idle; warming starts them all."""
    monkeypatch.setenv("BB_START_METHOD", method)
    warm_shared_pool(2, _pid, None)
    with shared_pool(2) as pool:
        assert len(worker_pids(pool)) == 2  # both started, not one per first task


def test_staged_files_of_processes_that_are_gone_are_removed_by_the_next_staged(tmp_path: Path) -> None:
    """A run killed outright leaves its file; the next Staged (of any process) deletes it, and only it."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    gone_pid = int(ended.stdout)  # a process that has exited: its pid is free (unless, rarely, reused)
    orphan = tmp_path / f"bb-staged-{gone_pid}-abc.pickle"
    orphan.write_bytes(b"x" * 100)
    live = tmp_path / f"bb-staged-{os.getppid()}-def.pickle"  # our parent runs: its file must stay
    live.write_bytes(b"y")
    unrelated = tmp_path / "bb-staged-notes.pickle"  # not a name Staged makes
    unrelated.write_bytes(b"z")
    with Staged({"a": 1}) as staged:
        assert Path(staged.path).name.startswith(f"bb-staged-{os.getpid()}-")
        assert Path(staged.path).exists()
    if not process_running(gone_pid):
        assert not orphan.exists()
    assert live.exists() and unrelated.exists()
