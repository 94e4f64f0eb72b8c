"""benchmarks.refine --seeds: per-target means over seeds and the spread between them."""

from __future__ import annotations

import json

import pytest

from benchmarks.refine import perturbed_start, seed_means
from core.params import sample_params
from core.refine import ParamSpace


def _row(ssim: float, skill: float, lum: float) -> dict:
    return {"refined": {"ssim": ssim, "ssim_skill": skill, "lum_corr": lum}}


def test_seed_means_average_each_target_then_take_the_median() -> None:
    per_target = [
        [_row(0.9, 0.3, 0.98), _row(0.5, 0.0, 0.60)],  # a chaotic target: the seeds disagree by 0.38
        [_row(0.8, 0.2, 0.90), _row(0.8, 0.2, 0.92)],
        [_row(0.7, 0.1, 0.70), _row(0.7, 0.1, 0.70)],
    ]
    out = seed_means(per_target)
    assert out["n"] == 3
    assert out["median_lum_corr"] == pytest.approx(0.79)  # means 0.79, 0.91, 0.70
    assert out["median_spread_lum_corr"] == pytest.approx(0.02)
    assert out["max_spread_lum_corr"] == pytest.approx(0.38)
    assert out["median_ssim"] == pytest.approx(0.7)


def test_each_target_gets_its_own_perturbation_and_it_is_reproducible() -> None:
    truth = sample_params(1, seed=3, mode="weighted", n_layers=0)[0]
    space = ParamSpace(truth)
    x_true, _ = space.encode(truth)

    def error(name: str, seed: int = 0):
        x, _ = space.encode(perturbed_start(name, truth, seed))
        return x - x_true

    assert error("synthetic-9000-001") == pytest.approx(error("synthetic-9000-001"))
    assert abs(error("synthetic-9000-001") - error("synthetic-9000-004")).max() > 0.01
    assert abs(error("synthetic-9000-001") - error("synthetic-9000-001", seed=1)).max() > 0.01


def test_the_command_runs_end_to_end_with_each_method(tmp_path) -> None:
    """The whole command on one tiny perturbed-start run per method: rows and a summary written."""
    import json

    from benchmarks.refine import main

    for method in ("cma", "pycma"):
        out = tmp_path / f"{method}.json"
        argv = ["--n", "1", "--budget", "40", "--seconds", "0", "--starts", "perturbed", "--no-references"]
        assert main([*argv, "--method", method, "--workers", "1", "--json", str(out)]) == 0
        result = json.loads(out.read_text())
        (row,) = result["targets"].values()
        assert result["method"] == method and row["perturbed"]["evaluations"] == 40
        assert 0.0 <= result["summary"]["synthetic/perturbed"]["median_lum_corr"] <= 1.0


def test_perturbed_guess_runs_the_perturbed_truth_through_the_first_guess(tmp_path) -> None:
    """--starts perturbed-guess: the perturbed truth ranked by core.inverse.guess among the bank's scenes
    and its variants, then raced with them (it always races, as the CNN's own prediction does)."""
    import json

    from benchmarks.refine import main, perturbed_guess_predictor, synthetic_targets
    from core.inverse.retrieval import DEFAULT_BANK
    from core.refine.evaluate import Scorer
    from core.refine.loss import make_loss

    if not DEFAULT_BANK.is_file():
        pytest.skip(f"no retrieval bank at {DEFAULT_BANK}")
    ((name, target, truth),) = synthetic_targets(1)
    start = perturbed_start(name, truth, 0)
    first, race = perturbed_guess_predictor()(target, start)
    scorer = Scorer(make_loss("ssim_lum", target), "fast")
    assert scorer(first) <= scorer(start) + 1e-9 and race[0] == first and start in race

    out = tmp_path / "pg.json"
    argv = ["--n", "1", "--budget", "40", "--seconds", "0", "--no-references", "--workers", "1"]
    argv += ["--starts", "perturbed-guess", "--polish-evals", "0", "--json", str(out)]
    assert main(argv) == 0
    row = json.loads(out.read_text())["targets"][name]["perturbed-guess"]
    assert row["evaluations"] >= 40 and row["predict_s"] > 0 and set(row["start"]) >= {"ssim", "lum_corr"}


def test_unknown_start_kinds_are_refused() -> None:
    from benchmarks.refine import main

    with pytest.raises(SystemExit):
        main(["--starts", "perturbed,cnn-ish"])


def test_only_reruns_the_named_targets_and_names_a_missing_one(tmp_path, capsys) -> None:
    """--only picks targets by name among those --n and the references give; the run records whether a
    run added mirror copies (--mirror-completion)."""
    import json

    from benchmarks.refine import main

    out = tmp_path / "only.json"
    argv = ["--n", "3", "--budget", "30", "--seconds", "0", "--starts", "perturbed", "--no-references"]
    argv += ["--workers", "1", "--polish-evals", "0", "--mirror-completion", "--json", str(out)]
    assert main([*argv, "--only", "synthetic-9000-004"]) == 0
    result = json.loads(out.read_text())
    assert list(result["targets"]) == ["synthetic-9000-004"] and result["mirror_completion"] is True
    assert "completed_axis" in result["targets"]["synthetic-9000-004"]["perturbed"]
    with pytest.raises(SystemExit):
        main([*argv, "--only", "synthetic-9000-004,figma-99"])
    assert "figma-99" in capsys.readouterr().err


def test_an_interrupted_run_resumes_from_its_partial_file(tmp_path, capsys) -> None:
    """After each target the results so far go to <json>.partial; --resume keeps them and runs the rest;
    the finished run deletes the partial file. Other settings are refused."""
    import json

    from benchmarks.refine import main

    out = tmp_path / "run.json"
    argv = ["--n", "2", "--budget", "30", "--seconds", "0", "--starts", "perturbed", "--no-references"]
    argv += ["--workers", "1", "--json", str(out)]
    assert main(argv) == 0
    full = json.loads(out.read_text())
    partial = tmp_path / "run.json.partial"
    assert not partial.exists()  # deleted once the run is done
    first, second = list(full["targets"])
    kept = {k: v for k, v in full.items() if k != "summary"}
    kept["targets"] = {first: {**full["targets"][first], "marker": True}}  # as a run killed after one target
    partial.write_text(json.dumps(kept))
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 0
    resumed = json.loads(out.read_text())
    assert resumed["targets"][first]["marker"] is True  # kept, not run again
    assert resumed["targets"][second]["perturbed"]["evaluations"] == 30
    assert "1 targets done" in capsys.readouterr().err and not partial.exists()
    partial.write_text(json.dumps(kept))
    with pytest.raises(SystemExit, match=r"other settings \(budget_evals\)"):
        main([*argv[:3], "31", *argv[4:], "--resume"])


def test_a_run_with_every_start_unavailable_refuses_rather_than_print_empty_rows(tmp_path, capsys) -> None:
    from benchmarks.refine import main

    out = tmp_path / "r.json"
    missing = str(tmp_path / "no-such-model.pt")
    argv = ["--n", "1", "--starts", "", "--start-from", "cnn", "--checkpoint", missing, "--json", str(out)]
    assert main(argv) == 2
    assert "no start left to run" in capsys.readouterr().err
    assert not out.exists()


def test_the_projects_own_examples_are_targets_with_their_exact_params(tmp_path) -> None:
    """The app's shipped examples (references/) were in no benchmark, though their answers are known."""
    from benchmarks.refine import main, own_targets
    from core.imageio import to_rgb_float
    from core.render import render

    own = own_targets()
    assert {name for name, *_ in own} == {"own-arch-fan-wide", "own-ring-tunnel", "own-square-mirror-y"}
    name, png, truth = own[0]
    image = to_rgb_float(png)
    h, w = image.shape[:2]
    assert abs(render(truth, w, h, quality="exact") / 255.0 - image).max() < 2 / 255  # the exact answer
    out = tmp_path / "own.json"
    argv = ["--n", "0", "--only", name, "--budget", "20", "--seconds", "0", "--starts", "perturbed"]
    assert main([*argv, "--workers", "1", "--polish-evals", "0", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["targets"][name]
    assert set(rows) == {"perturbed"}  # a perturbed start needs the truth: there is one
