"""Ctrl-C in the part-by-part tools (train.parts): the parts done stand, no more are begun, no traceback."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from train import generate_data
from train.parts import run_parts


def _part(config: dict, k: int) -> int:
    if k == 0:  # Ctrl-C reaches the parent while the first parts are being written
        os.kill(config["parent"], signal.SIGINT)
    time.sleep(config["sleep"])
    return k * 10


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_finishes_the_parts_begun_and_begins_no_more(workers: int, capsys) -> None:
    done: dict[int, int] = {}
    config = {"parent": os.getpid(), "sleep": 0.5 if workers > 1 else 0.0}
    finished = run_parts(_part, config, range(6), workers, done.__setitem__, "the rendering")
    assert finished is False
    assert done == ({0: 0} if workers == 1 else {0: 0, 1: 10})  # the ones running when it came
    assert "stopping the rendering: keeping the finished ones" in capsys.readouterr().err


def test_parts_all_run_without_an_interrupt() -> None:
    done: dict[int, int] = {}
    assert run_parts(lambda config, k: k + 1, {}, [3, 1, 2], 1, done.__setitem__, "x") is True
    assert done == {3: 4, 1: 2, 2: 3}


def test_generate_data_interrupted_says_what_is_left(tmp_path, monkeypatch, capsys) -> None:
    """Ctrl-C used to end it in a KeyboardInterrupt traceback (one per worker) and no summary."""
    real = generate_data.render_shard

    def ctrl_c_in_first(config, index):
        if index == 0:
            os.kill(os.getpid(), signal.SIGINT)
        return real(config, index)

    monkeypatch.setattr(generate_data, "render_shard", ctrl_c_in_first)
    args = [
        "--out",
        str(tmp_path / "d"),
        "--n",
        "6",
        "--shard-size",
        "2",
        "--size",
        "16",
        "--quality",
        "draft",
    ]
    assert generate_data.main(args) == 130
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert (summary["shards_written"], summary["shards_left"]) == (1, 2)
    assert "interrupted: 2 shards left; the same command finishes them" in captured.err
    monkeypatch.setattr(generate_data, "render_shard", real)
    assert generate_data.main(args) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["shards_skipped"] == 1
