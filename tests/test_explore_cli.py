"""`python -m core.explore` end to end with the (offline) proxy judge on a tiny budget and a temp store."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.explore.cli import main
from core.explore.explorer import ExploreError
from core.params import defaults
from core.paths import PROJECT_ROOT
from core.store import Store
from tests.interrupting import interrupt_when_started

pytestmark = pytest.mark.shared  # the proxy judge's default references live in ../shared/references


def test_cli_explores_records_and_resumes(
    tmp_path: Path, shared: Path, capsys: pytest.CaptureFixture
) -> None:
    db = tmp_path / "data"
    params = tmp_path / "seed.json"
    params.write_text(json.dumps({**defaults(), "repetitions": 24}))
    missing = "none"  # no model: finds keep their own params
    args = ["--judge", "proxy", "--evals", "7", "--db", str(db), "--population", "6", "--workers", "1"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "core.explore",
            "--seed-params",
            str(params),
            *args,
            "--checkpoint",
            str(missing),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)  # stdout holds the JSON summary only (progress goes to stderr)
    assert summary["evaluations"] == 7 and summary["stop_reason"] == "budget" and summary["replayed"] == 0
    assert summary["extraction"].startswith("extraction skipped") and "7/7" in result.stderr  # tqdm bar

    with Store(db) as store:
        run = store.get_run(summary["run_id"])
        ratings = store.ratings(run.id)
        assert run.status == "done" and run.config["judge"] == "proxy" and run.config["evals"] == 7
        assert sorted(r.step for r in ratings) == list(range(7))
        assert all(r.judge.startswith("proxy:") and "PROXY" in r.rationale for r in ratings)
        assert max(r.score for r in ratings) == summary["best_score"]
        seed = store.get_seed(run.seed_id)
        assert seed.source == "manual" and seed.params["repetitions"] == 24
        for find in summary["finds"]:
            assert store.get_rating(find["rating_id"]).score >= 9
            if find["seed_id"] is not None:
                child = store.get_seed(find["seed_id"])
                assert child.parent_id == seed.id and child.source == "explore"

    # a finished run is not resumed: it used to be replayed, its finds said again as new, and marked failed
    # when its VLM was down (an audit); the app refuses the same way
    assert main(["--resume", str(summary["run_id"]), "--db", str(db), "--checkpoint", str(missing)]) == 2
    captured = capsys.readouterr()
    assert f"run {summary['run_id']} has finished (7 evaluations): nothing is left to resume" in captured.err
    assert captured.out == ""
    with Store(db) as store:
        assert (
            len(store.ratings(summary["run_id"])) == 7 and store.get_run(summary["run_id"]).status == "done"
        )


def test_cli_refuses_a_seed_image_without_a_model(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    image = Path(__file__).parent / "no.png"
    code = main(
        ["--seed-image", str(image), "--judge", "proxy", "--db", str(tmp_path), "--checkpoint", "none"]
    )
    assert code == 2 and "inverse model" in capsys.readouterr().err


def test_cli_refuses_a_named_checkpoint_it_cannot_load_and_a_file_that_is_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A named --checkpoint that does not load used to be a note, the run going on without the model; a
    junk --db a sqlite3 traceback."""
    run = ["--seed-params", "{}", "--judge", "proxy", "--evals", "4"]
    assert main([*run, "--db", str(tmp_path), "--checkpoint", str(tmp_path / "missing.pt")]) == 2
    assert "error: --checkpoint no inverse-model checkpoint at" in capsys.readouterr().err
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite")
    assert main([*run, "--db", str(junk)]) == 2
    err = capsys.readouterr().err
    assert "junk.db is not a usable database" in err and "Traceback" not in err


def test_a_judge_that_cannot_run_leaves_no_seed_and_no_run(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """An unreachable VLM used to leave a 'manual' seed and a failed run behind at every try."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    judge = f"openai:http://127.0.0.1:{port}/v1#m"
    assert main(["--seed-params", "{}", "--judge", judge, "--db", str(tmp_path), "--checkpoint", "none"]) == 2
    assert "cannot reach" in capsys.readouterr().err
    with Store(tmp_path) as store:
        assert store.seeds() == [] and store.runs() == []


def test_a_run_in_which_every_judgement_failed_is_no_success(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from core.judge import JudgeFailure, register_judge
    from core.judge.proxy import ProxyJudge

    class Mute(ProxyJudge):
        name = "mute"

        def score(self, image, context=None):  # type: ignore[no-untyped-def]
            raise JudgeFailure(self.name, "no score found", ["..."])

    register_judge("mute", Mute)
    run = ["--seed-params", "{}", "--judge", "mute", "--evals", "3", "--workers", "1", "--checkpoint", "none"]
    assert main([*run, "--db", str(tmp_path)]) == 1  # it used to end 0, as a run that found nothing
    captured = capsys.readouterr()
    assert (
        "no usable score for any candidate" in captured.err and json.loads(captured.out)["best_score"] is None
    )


def test_a_rerun_reuses_its_seed_and_asks_new_candidates(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The same command twice: one seed (it used to add a copy per run), and the second run's optimiser
    seed is the next one (it used to judge the very same candidates again); --rng-seed repeats a run."""
    run = ["--seed-params", json.dumps({**defaults(), "repetitions": 24}), "--judge", "proxy", "--evals", "5"]
    run += ["--workers", "1", "--checkpoint", "none", "--db", str(tmp_path)]
    for _ in range(2):
        assert main(run) == 0
    assert main([*run, "--rng-seed", "0"]) == 0
    assert "(rng seed 1)" in capsys.readouterr().err
    with Store(tmp_path) as store:
        first, second, repeat = sorted(store.runs(kind="explore"), key=lambda r: r.id)
        assert len(store.seeds(source="manual")) == 1 and first.seed_id == second.seed_id
        assert [r.config["rng_seed"] for r in (first, second, repeat)] == [0, 1, 0]
        asked = [[r.params_hash for r in store.ratings(run.id)] for run in (first, second, repeat)]
        assert asked[0] == asked[2] and not set(asked[0][1:]) & set(asked[1][1:])


@pytest.mark.parametrize(
    "bad", [["--sigma", "-1"], ["--sigma", "5"], ["--width", "100000"], ["--rng-seed", "-1"]]
)
def test_out_of_range_settings_are_one_line_and_leave_no_seed_and_no_run(
    tmp_path: Path, capsys: pytest.CaptureFixture, bad: list[str]
) -> None:
    """Each used to end in a traceback (an assertion in CMA-ES, a RenderError) and leave a failed run."""
    argv = ["--seed-params", "{}", "--judge", "proxy", "--db", str(tmp_path), "--checkpoint", "none"]
    if bad[0] == "--rng-seed":  # refused by argparse, before any work
        with pytest.raises(SystemExit):
            main([*argv, *bad])
    else:
        assert main([*argv, *bad]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and ("sigma" in err or "px a side" in err or "0 to 4294967295" in err), err
    with Store(tmp_path) as store:
        assert store.seeds() == [] and store.runs() == []


def test_ctrl_c_stops_the_run_resumably_and_still_prints_its_summary(tmp_path: Path) -> None:
    """The first SIGINT cancels at the next evaluation: the summary line on stdout, exit 130 (it was a bare
    'interrupted' with no summary, though the help promised one)."""
    argv = ["--seed-params", "{}", "--judge", "proxy", "--evals", "100000", "--db", str(tmp_path)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "core.explore", *argv, "--checkpoint", "none"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1"},
    )
    out, err = interrupt_when_started(proc, "eval")  # the progress bar is running
    assert proc.returncode == 130, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert 0 < summary["evaluations"] < 100000 and f"continue with --resume {summary['run_id']}" in err
    with Store(tmp_path) as store:
        assert store.get_run(summary["run_id"]).status == "cancelled"


def test_a_resume_refuses_new_run_options_and_another_judge(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """--resume took --evals, --threshold, --width and --judge without a word and used the run's own; a VLM
    that had moved left its run unresumable (an audit). The same openai: model at another address is taken."""
    from core.explore.cli import resume_judge

    run = [
        "--seed-params",
        "{}",
        "--judge",
        "proxy",
        "--evals",
        "3",
        "--workers",
        "1",
        "--checkpoint",
        "none",
    ]
    assert main([*run, "--db", str(tmp_path)]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    with Store(tmp_path) as store:
        store.finish_run(run_id, "cancelled", "interrupted")  # as Ctrl-C leaves it
    resume = ["--resume", str(run_id), "--db", str(tmp_path), "--checkpoint", "none"]
    assert main([*resume, "--evals", "60", "--threshold", "5"]) == 2
    assert "--evals 60, --threshold 5.0 apply to a new run only" in capsys.readouterr().err
    assert main([*resume, "--judge", "openai:http://127.0.0.1:9/v1"]) == 2
    assert (
        f"run {run_id} is judged by proxy; another judge's scores would not compare"
        in capsys.readouterr().err
    )
    with Store(tmp_path) as store:
        assert store.get_run(run_id).status == "cancelled"  # untouched: still resumable
    moved = argparse.Namespace(judge="openai:http://new:8806/v1#qwen", resume=run_id)
    assert resume_judge("openai:http://old:8805/v1#qwen", moved) == "openai:http://new:8806/v1#qwen"
    with pytest.raises(ExploreError, match="would not compare"):  # another model is another judge
        resume_judge("openai:http://old:8805/v1#llava", moved)


def test_a_judge_that_never_answers_usably_stops_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Every candidate's answer unreadable: the run spent its whole budget, three asks a candidate, and was
    stored as done (an audit). It now stops after MAX_FAILED_IN_ROW in a row, failed and resumable."""
    from core.explore.explorer import MAX_FAILED_IN_ROW
    from core.judge import JudgeFailure, register_judge
    from core.judge.proxy import ProxyJudge

    class Prose(ProxyJudge):
        name = "prose"

        def score(self, image, context=None):  # type: ignore[no-untyped-def]
            raise JudgeFailure(self.name, "no score in the answer", ["a lovely ring"])

    register_judge("prose", Prose)
    run = [
        "--seed-params",
        "{}",
        "--judge",
        "prose",
        "--evals",
        "60",
        "--workers",
        "1",
        "--checkpoint",
        "none",
    ]
    assert main([*run, "--db", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert (
        f"no usable score for {MAX_FAILED_IN_ROW} candidates in a row" in err
        and "--resume 1 continues" in err
    )
    with Store(tmp_path) as store:
        [stopped] = store.runs()
        assert stopped.status == "failed" and len(store.ratings(stopped.id)) == MAX_FAILED_IN_ROW
    assert main(["--list", "--db", str(tmp_path)]) == 0  # the list says why it failed
    assert (
        f"failed (ExploreError: the judge gave no usable score for {MAX_FAILED_IN_ROW}"
        in capsys.readouterr().out
    )


def test_a_mistyped_db_is_said_not_made(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """--list or --resume on a --db that holds nothing made an empty store there and said "0 unfinished
    run(s)" or "no run with id 1"; a --db naming a file that is not a database said "File exists"."""
    for argv in (["--list"], ["--resume", "1"]):
        assert main([*argv, "--db", str(tmp_path / "typo")]) == 2
        assert f"no data at {tmp_path / 'typo' / 'bb.sqlite3'}" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()
    (tmp_path / "notes.txt").write_text("x")
    assert main(["--seed-params", "{}", "--judge", "proxy", "--db", str(tmp_path / "notes.txt")]) == 2
    assert "notes.txt is a file, not a data folder" in capsys.readouterr().err


def test_database_trouble_in_mid_use_is_said_in_words(tmp_path: Path) -> None:
    """A write lock held past the wait and a damaged file ended a run in a raw sqlite3 traceback."""
    import sqlite3

    from core.store.errors import database_trouble

    path = tmp_path / "bb.sqlite3"
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")  # another program's write lock
    with pytest.raises(sqlite3.OperationalError) as locked:
        sqlite3.connect(path, timeout=0.05).execute("INSERT INTO t VALUES (1)")
    holder.rollback()
    assert "is locked by another program past the wait" in database_trouble(locked.value, path)
    damaged = sqlite3.DatabaseError("database disk image is malformed")
    assert f"sqlite3 {path} .recover" in database_trouble(damaged, path)
