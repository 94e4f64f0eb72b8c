"""A running run is driven by one process at a time: another live process's run is refused, a dead one's
is resumable at once, and two processes resuming one run at once cannot both go on (core.store.holders)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.ui import explore as app_explore
from core.explore import ExploreConfig, Explorer, ExtractorChoice, RunHeldError
from core.explore.cli import main as explore_main
from core.params import defaults
from core.store import RunBusyError, Store, StoreError
from core.store.holders import STALE_AFTER_S, live_holder, this_process
from core.store.schema import MIGRATIONS

ROOT = Path(__file__).resolve().parent.parent
SEED = {**defaults(), "repetitions": 8}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "data") as s:
        yield s


@pytest.fixture
def other_process() -> Iterator[subprocess.Popen[bytes]]:
    """A live process of this machine that is not this one (it only sleeps)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc
    proc.kill()
    proc.wait()


def held_by(store: Store, run_id: int, owner: str, age_s: float = 0.0) -> None:
    """Make `owner` the run's holder, its last heartbeat `age_s` ago (as that process would have left it)."""
    conn = sqlite3.connect(store.path)
    conn.execute(
        "UPDATE runs SET status = 'running', owner = ?,"
        " heartbeat = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) WHERE id = ?",
        (owner, f"-{age_s} seconds", run_id),
    )
    conn.commit()
    conn.close()


def new_run(store: Store) -> int:
    seed_id = store.add_seed(SEED, source="manual")
    return Explorer.start(
        store, _judge(), seed_id, ExploreConfig(width=64, height=36, workers=1, evals=9)
    ).run_id


def _judge():  # the proxy judge: deterministic, no server
    from core.judge import create_judge

    return create_judge("proxy")


def test_a_run_is_held_by_the_process_that_started_it(store: Store) -> None:
    run = store.get_run(store.start_run("explore"))
    assert run.owner == this_process() and run.heartbeat is not None
    assert store.run_holder(run.id) is None  # this process's own run is no other's


def test_another_live_process_holds_its_run_until_it_ends(
    store: Store, other_process: subprocess.Popen[bytes]
) -> None:
    run_id = store.start_run("explore")
    held_by(store, run_id, f"{socket.gethostname()}:{other_process.pid}")
    assert store.run_holder(run_id) == f"process {other_process.pid} on this machine"
    with pytest.raises(RunBusyError, match=f"run {run_id} is being driven by process {other_process.pid}"):
        store.resume_run(run_id)
    assert store.get_run(run_id).owner.endswith(f":{other_process.pid}")  # untouched

    other_process.kill()
    other_process.wait()
    assert store.run_holder(run_id) is None
    run = store.resume_run(run_id)
    assert run.status == "running" and run.owner == this_process()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process start times are read from /proc")
def test_a_live_process_of_this_machine_holds_its_run_through_a_long_silence(
    store: Store, other_process: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A driver waiting on a slow VLM (BB_VLM_TIMEOUT above STALE_AFTER_S) went silent past the heartbeat's
    limit, and a second process took the run it was still driving (an audit). A pid that began after the
    heartbeat is another process that the system gave the old number: it holds nothing."""
    import core.store.holders as holders

    monkeypatch.setattr(holders, "STALE_AFTER_S", 1.0)  # a silence of seconds stands for one of minutes
    run_id = store.start_run("explore")
    owner = f"{socket.gethostname()}:{other_process.pid}"
    held_by(store, run_id, owner, age_s=60)  # a heartbeat from before other_process began: a reused pid
    assert store.run_holder(run_id) is None
    held_by(store, run_id, owner)  # other_process's own heartbeat, then silence past the limit
    time.sleep(1.5)
    assert store.run_holder(run_id) == f"process {other_process.pid} on this machine"
    with pytest.raises(RunBusyError):
        store.resume_run(run_id)
    held_by(store, run_id, "elsewhere.example:4242", age_s=5)  # another machine: the heartbeat alone
    assert store.run_holder(run_id) is None


def test_another_machine_holds_a_run_while_its_heartbeat_is_fresh(store: Store) -> None:
    run_id = store.start_run("explore")
    held_by(store, run_id, "elsewhere.example:4242", age_s=5)
    assert store.run_holder(run_id) == "process 4242 on elsewhere.example"
    with pytest.raises(RunBusyError):
        store.resume_run(run_id)
    held_by(store, run_id, "elsewhere.example:4242", age_s=STALE_AFTER_S + 60)
    assert store.run_holder(run_id) is None
    assert store.resume_run(run_id).owner == this_process()


def test_stopped_runs_and_runs_without_a_holder_are_free() -> None:
    assert live_holder(None, 1.0) is None  # a run from before holders were recorded
    assert live_holder("host-without-pid", 1.0) is None
    assert live_holder(f"{socket.gethostname()}:{os.getpid()}", None) is None  # no heartbeat


def test_a_database_of_schema_1_gains_holders_and_its_running_runs_stay_resumable(tmp_path: Path) -> None:
    path = tmp_path / "bb.sqlite"
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO runs (kind, status) VALUES ('explore', 'running')")
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS) >= 2
        run = store.get_run(1)
        assert run.owner is None and store.run_holder(1) is None
        assert store.resume_run(1).owner == this_process()


RESUMER = """
import sys, time
from core.store import RunBusyError, Store
store = Store(sys.argv[1])
while time.time() < float(sys.argv[2]):
    time.sleep(0.001)
try:
    store.resume_run(1)
    print("took", flush=True)
    time.sleep(float(sys.argv[3]))  # alive while the other asks
except RunBusyError as exc:
    print("refused:", exc, flush=True)
"""


def test_two_processes_resuming_one_run_at_once_cannot_both_go_on(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        run_id = store.start_run("explore")
        store.finish_run(run_id, "cancelled")
    start = time.time() + 2.0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RESUMER, str(tmp_path), str(start), "4"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    answers = sorted(out.split(":")[0].strip() for out, _ in outputs)
    assert answers == ["refused", "took"], outputs


def test_the_explorer_leaves_a_run_another_process_drives_alone(
    store: Store, other_process: subprocess.Popen[bytes]
) -> None:
    run_id = new_run(store)
    owner = f"{socket.gethostname()}:{other_process.pid}"
    held_by(store, run_id, owner)
    explorer = Explorer(store, _judge(), run_id, extractor=ExtractorChoice(None, "test"))
    with pytest.raises(RunHeldError, match="one process at a time"):
        list(explorer.run())
    run = store.get_run(run_id)
    assert run.status == "running" and run.owner == owner and store.ratings(run_id) == []


def test_the_cli_refuses_to_resume_a_run_another_process_drives(
    store: Store, other_process: subprocess.Popen[bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = new_run(store)
    held_by(store, run_id, f"{socket.gethostname()}:{other_process.pid}")
    code = explore_main(["--resume", str(run_id), "--db", str(store.path), "--checkpoint", "none"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"run {run_id} is being driven by process {other_process.pid} on this machine" in err
    assert "--resume" not in err.split("driven by")[1]  # no advice to do what was just refused


def test_the_app_lists_who_drives_a_run_and_refuses_to_resume_it(
    store: Store, other_process: subprocess.Popen[bytes]
) -> None:
    driven, dead = new_run(store), new_run(store)
    held_by(store, driven, f"{socket.gethostname()}:{other_process.pid}")
    held_by(store, dead, f"{socket.gethostname()}:999999999")  # no such pid: its process has gone
    note = app_explore.unfinished_note(store)
    assert f"run **{driven}**" in note and f"running in process {other_process.pid} on this machine" in note
    assert f"run **{dead}**" in note and note.split(f"run **{dead}**")[1].split("\n")[0].endswith(
        "interrupted"
    )
    with pytest.raises(StoreError, match=f"Run {driven} is being driven by process {other_process.pid}"):
        next(app_explore.resume_updates(store, driven))


def test_the_cli_lists_unfinished_runs_and_who_drives_them(
    store: Store, other_process: subprocess.Popen[bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    driven, dead, stopped, done = (new_run(store) for _ in range(4))
    held_by(store, driven, f"{socket.gethostname()}:{other_process.pid}")
    held_by(store, dead, f"{socket.gethostname()}:999999999")
    store.finish_run(stopped, "cancelled")
    store.finish_run(done, "done")
    assert explore_main(["--list", "--db", str(store.path)]) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines == [
        f"run {stopped} from seed {store.get_run(stopped).seed_id}: 0 of 9 evaluations, stopped",
        f"run {dead} from seed {store.get_run(dead).seed_id}: 0 of 9 evaluations, interrupted",
        f"run {driven} from seed {store.get_run(driven).seed_id}: 0 of 9 evaluations, "
        f"running in process {other_process.pid} on this machine",
    ]
    assert "3 unfinished run(s)" in out.err
