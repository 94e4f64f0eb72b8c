"""`python -m core.refine`: runs end to end and writes its files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from core.imageio import save_png
from core.params import sample_params, validate
from core.refine.cli import main
from core.render import render

ROOT = Path(__file__).resolve().parent.parent


def test_cli_writes_params_render_and_side_by_side(tmp_path: Path, capsys) -> None:
    scene = sample_params(30, seed=9000, mode="weighted", n_layers=0)[9]
    target = save_png(render(scene, 96, 54, "exact"), tmp_path / "target.png")
    start = tmp_path / "start.json"
    start.write_text(json.dumps({**scene, "scaleFactor": round(scene["scaleFactor"] * 0.97, 3)}))
    out = tmp_path / "out"
    argv = [str(target), "--start", str(start), "--budget", "40", "--workers", "1", "--out-dir", str(out)]
    assert main(argv) == 0
    params = json.loads((out / "best_params.json").read_text())
    assert validate(params) == params
    assert Image.open(out / "best.png").size == (96, 54)
    assert Image.open(out / "side_by_side.png").size == (96 * 2 + 8, 54)
    summary = json.loads((out / "report.json").read_text())
    assert summary["evaluations"] == 40 and summary["stop_reason"] == "budget_evals"
    assert 0.0 <= summary["report"]["lum_corr"] <= 1.0
    assert np.isfinite(summary["best_loss"])
    # what is left, in words (stderr and report.json) and as a picture
    assert len(summary["gap"]["findings"]) == 6 and summary["gap"]["ceiling"] in capsys.readouterr().err
    assert Image.open(out / "gap.png").size == (512, 288)


def test_module_entry_point_shows_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "core.refine", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "--method" in result.stdout and "catcma" in result.stdout
