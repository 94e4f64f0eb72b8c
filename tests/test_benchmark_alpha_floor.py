"""The alpha-floor study runs, changes the floor only inside itself, and finds a target's own floor."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import core.render.scene as scene
from benchmarks.alpha_floor import floored, main
from core.imageio import save_png
from core.render import render

FAINT = {"geometry": "ring", "repetitions": 120, "alphaFactor": 0.2, "scale": 0.5, "layers": []}
"""Most of its 120 rings sit at the floor (exp(-0.24 i) < 0.02 from i = 17)."""


def test_the_floor_is_changed_inside_the_block_only() -> None:
    spec = render(FAINT, 160, 90).astype(int)
    with floored(0.1):
        assert scene.alpha_progression("exponential", 0.2, np.arange(60.0), 60).min() == 0.1
        brighter = render(FAINT, 160, 90).astype(int)
    with floored(0.02):
        same = render(FAINT, 160, 90).astype(int)
    assert brighter.sum() > 1.5 * spec.sum() and np.array_equal(same, spec)
    assert np.array_equal(render(FAINT, 160, 90).astype(int), spec)  # the twin is the spec's again


def test_the_study_scores_each_floor_from_one_start(tmp_path: Path) -> None:
    """A target drawn at floor 0.1: its own params score it only when drawn at that floor."""
    target = tmp_path / "faint.png"
    with floored(0.1):
        save_png(render(FAINT, 320, 180), target)
    start = tmp_path / "start.json"
    start.write_text(json.dumps(FAINT))
    out = tmp_path / "floors.json"
    argv = ["--target", str(target), "--start", str(start), "--floors", "0.02,0.1", "--evals", "12"]
    argv += ["--seeds", "0,1"]
    assert main([*argv, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    start_losses = {floor["floor"]: floor["start_loss"] for floor in result["floors"]}
    assert start_losses[0.1] < 0.01 < 0.3 < start_losses[0.02]  # its own params, drawn at either floor
    runs = [(run["floor"], run["seed"]) for run in result["runs"]]
    assert runs == [(0.02, 0), (0.02, 1), (0.1, 0), (0.1, 1)]
    assert all(run["evaluations"] >= 12 and run["loss"] > 0 for run in result["runs"])
    assert result["start_params"]["repetitions"] == FAINT["repetitions"]
