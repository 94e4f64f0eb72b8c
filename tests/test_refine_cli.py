"""`python -m core.refine`: runs end to end and writes its files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.imageio import save_png
from core.params import decode, sample_params, validate
from core.refine.cli import finish_note, main
from core.refine.finish import COLOUR_TOLERANCE
from core.render import render
from tests.interrupting import interrupt_when_started

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
    # what the finish did at the report's size: it keeps only what scores better there (the colour fit
    # may cost up to COLOUR_TOLERANCE)
    finish = summary["finish_loss_full"]
    assert finish["after"] <= finish["before"] * (1 + COLOUR_TOLERANCE)
    err = capsys.readouterr().err
    said = finish_note((finish["before"], finish["after"]), summary["best_loss"])
    assert said is None or f"note: {said}" in err
    # what is left, in words (stderr and report.json) and as a picture
    assert len(summary["gap"]["findings"]) == 8 and summary["gap"]["ceiling"] in err
    assert Image.open(out / "gap.png").size == (512, 288)
    # …and where it opens in bb-particles: the c-string draws the match
    links = summary["bb_particles"]
    assert links["render"] == f"http://localhost:3000/render?c={links['cstring']}"
    assert np.array_equal(render(decode(links["cstring"]), 96, 54), render(params, 96, 54))


def test_module_entry_point_shows_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "core.refine", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "--method" in result.stdout and "catcma" in result.stdout


def _target(tmp_path: Path) -> Path:
    scene = sample_params(30, seed=9000, mode="weighted", n_layers=0)[9]
    return save_png(render(scene, 96, 54, "exact"), tmp_path / "target.png")


@pytest.mark.parametrize(
    ("start", "says"),
    [
        ('{"geometry": "blob"}', 'geometry: unknown option: "blob"'),
        ("[1, 2]", "must be a JSON object, not list"),
        ("{oops", "not JSON"),
        (None, "cannot read the start params"),
    ],
    ids=["bad-value", "not-an-object", "not-json", "missing"],
)
def test_bad_start_is_one_line_before_any_work(tmp_path: Path, capsys, start: str | None, says: str) -> None:
    path = tmp_path / "start.json"
    if start is not None:
        path.write_text(start)
    out = tmp_path / "out"
    assert main([str(_target(tmp_path)), "--start", str(path), "--out-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: ") and says in err and "Traceback" not in err
    assert not out.exists()


def test_flat_target_is_warned_about(tmp_path: Path, capsys) -> None:
    target = save_png(np.zeros((54, 96, 3), np.uint8), tmp_path / "black.png")
    argv = [str(target), "--start", "sampler", "--budget", "10", "--workers", "1"]
    assert main([*argv, "--out-dir", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "warning: The design is one flat colour (black)" in err
    assert err.count("one flat colour") == 1  # the Refiner's FlatTargetWarning is not said again


def test_bad_target_is_one_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "design.png"
    bad.write_bytes(b"GIF89a not really")
    assert main([str(bad), "--out-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "design.png" in err and "not an image" in err


def test_default_start_is_the_first_guess_or_says_why_not(tmp_path: Path, capsys) -> None:
    """Without a checkpoint the CLI says so and starts from the sampler's best, as `--start sampler`."""
    target, out = _target(tmp_path), tmp_path / "out"
    argv = [str(target), "--budget", "30", "--workers", "1", "--out-dir", str(out)]
    assert main([*argv, "--checkpoint", str(tmp_path / "absent.pt")]) == 0
    assert "no first guess" in capsys.readouterr().err
    without = json.loads((out / "best_params.json").read_text())
    assert main([*argv, "--start", "sampler"]) == 0
    assert json.loads((out / "best_params.json").read_text()) == without


def test_first_guess_start_races_the_guesses(tmp_path: Path, capsys) -> None:
    """With a checkpoint (a small untrained one here) the run starts from core.inverse.guess's best."""
    from core.inverse import InverseModel, ModelConfig, save_checkpoint

    model = InverseModel(ModelConfig(backbone="test_resnet", input_size=32, neck=32), pretrained=False)
    checkpoint = save_checkpoint(model.eval(), tmp_path / "tiny.pt")
    out = tmp_path / "out"
    argv = [str(_target(tmp_path)), "--checkpoint", str(checkpoint), "--budget", "30", "--workers", "1"]
    assert main([*argv, "--out-dir", str(out)]) == 0
    assert "first guess: " in capsys.readouterr().err


def test_ctrl_c_keeps_the_best_so_far(tmp_path: Path) -> None:
    """The first SIGINT stops the run at its next evaluation and every file is still written (exit 130)."""
    target, out = _target(tmp_path), tmp_path / "out"
    argv = [str(target), "--start", "sampler", "--budget", "1000000", "--seconds", "300", "--workers", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "core.refine", *argv, "--out-dir", str(out)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    _, err = interrupt_when_started(proc, "eval/s")  # the search (and its pool) has started
    assert proc.returncode == 130, err
    assert "keeping the best so far" in err and f"the best so far is in {out}" in err
    summary = json.loads((out / "report.json").read_text())
    assert summary["stop_reason"] == "cancelled" and summary["evaluations"] < 1000000
    assert validate(json.loads((out / "best_params.json").read_text()))
    assert Image.open(out / "best.png").size == (96, 54)


def test_bad_bb_particles_address_is_one_line_before_any_work(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    argv = [str(_target(tmp_path)), "--bb-particles", "ftp://studio", "--out-dir", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bb-particles address 'ftp://studio'") and "Traceback" not in err
    assert not out.exists()


def test_a_symmetric_design_gets_the_mirror_copies_its_match_lacks(tmp_path: Path, capsys) -> None:
    """The default run completes a match under the design's symmetry and says so; --no-mirror-completion
    leaves the match as the search has it."""
    from core.refine.mirror import mirror_completed

    hidden = {"position": {"x": 0.0, "y": 0.0}, "rotation": 0.0, "scale": {"x": 0.0, "y": 0.0}}
    scene = {**sample_params(40, seed=9000, mode="weighted", n_layers=0)[28], "layers": [hidden]}
    scene["position"] = {"x": 0.35, "y": -0.2}
    target = save_png(render(mirror_completed(scene, "left-right"), 96, 54, "exact"), tmp_path / "target.png")
    start = tmp_path / "start.json"
    start.write_text(json.dumps(scene))
    argv = [str(target), "--start", str(start), "--budget", "120", "--workers", "1"]
    assert main([*argv, "--out-dir", str(tmp_path / "on")]) == 0
    assert "left-right symmetric" in capsys.readouterr().err
    assert json.loads((tmp_path / "on" / "report.json").read_text())["mirror_completion"] == "left-right"
    assert main([*argv, "--no-mirror-completion", "--out-dir", str(tmp_path / "off")]) == 0
    assert "symmetric" not in capsys.readouterr().err
    assert json.loads((tmp_path / "off" / "report.json").read_text())["mirror_completion"] is None


def test_an_out_dir_it_cannot_write_is_one_line_before_any_work(tmp_path: Path, capsys) -> None:
    """It used to run the whole refinement, then lose it to a traceback when making the folder."""
    taken = tmp_path / "taken"
    taken.write_text("a file where the folder would go")
    started = time.perf_counter()
    assert main([str(_target(tmp_path)), "--out-dir", str(taken), "--seconds", "30"]) == 2
    assert time.perf_counter() - started < 10  # refused before the 30-s search, not after it
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "is a file, not a folder" in err and "Traceback" not in err


def test_the_finish_is_told_at_the_size_it_fits() -> None:
    assert finish_note(None, 0.3) is None  # no finish (no named loss)
    assert finish_note((0.6, 0.6), 0.3) is None  # nothing changed
    assert finish_note((0.6012, 0.5731), 0.3128) == (
        "the finish, fitted at the report's 512 px, took the loss there 0.6012 → 0.5731 (0.3128 at the "
        "search's size)"
    )


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--budget", "-5"], "--budget: must be at least 0, got -5"),  # used to run one evaluation
        (["--seconds", "-1"], "--seconds: must be at least 0, got -1"),  # used to run without a time limit
        (["--seconds", "nan"], "expected a finite number"),
        (["--workers", "0"], "--workers: must be at least 1"),
        (["--supersample", "9"], "invalid choice: 9 (choose from 1, 2, 3, 4)"),
        (["--budget", "0", "--seconds", "0"], "without an end"),  # used to fail after the first guess
    ],
)
def test_limits_out_of_range_are_refused_before_any_work(
    tmp_path: Path, capsys, flags: list[str], words: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([str(_target(tmp_path)), *flags, "--out-dir", str(tmp_path / "out")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
