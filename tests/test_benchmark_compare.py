"""benchmarks.compare: runs matched by target, start kind and seed across files; counts and medians."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.compare import CompareError, compare, main, runs_of


def _result(seeds: list[int], targets: dict[str, dict[int, float]], ssim: float = 0.9) -> dict:
    """A benchmarks.refine result whose runs have the given lum_corr per (target, seed)."""

    def key(seed: int) -> str:
        return "guess" if len(seeds) == 1 else f"guess/seed{seed}"

    return {
        "seeds": seeds,
        "targets": {
            name: {
                key(seed): {"refined": {"ssim": ssim, "ssim_skill": 0.5, "lum_corr": lum}}
                for seed, lum in by_seed.items()
            }
            for name, by_seed in targets.items()
        },
    }


BASE = [
    _result([0, 1], {"synthetic-1": {0: 0.90, 1: 0.96}, "synthetic-2": {0: 0.97, 1: 0.80}}),
    _result([0], {"ref": {0: 0.70}}),
]
VARIANT = [
    _result([0], {"synthetic-1": {0: 0.95}, "synthetic-2": {0: 0.97}, "ref": {0: 0.60}}, ssim=0.8),
    _result([1], {"synthetic-1": {1: 0.9605}, "synthetic-2": {1: 0.70}, "synthetic-3": {1: 0.99}}),
]


def test_runs_are_keyed_by_target_kind_and_seed_whatever_the_file() -> None:
    runs = runs_of(BASE)
    assert runs[("synthetic-2", "guess", 1)]["lum_corr"] == 0.80
    assert runs[("ref", "guess", 0)]["lum_corr"] == 0.70
    assert runs_of(VARIANT)[("synthetic-2", "guess", 1)]["lum_corr"] == 0.70
    with pytest.raises(CompareError, match=r"no .targets. and .seeds"):
        runs_of([{"summary": {}}])


def test_the_comparison_counts_changes_and_takes_medians_per_seed_and_over_seeds() -> None:
    out = compare(runs_of(BASE), runs_of(VARIANT))
    assert out["runs"] == 5  # synthetic-3 is on one side only
    synthetic = out["groups"]["synthetic"]
    # changes: +0.05, 0, +0.0005 (within the tolerance), −0.10
    assert (synthetic["lum_corr_up"], synthetic["lum_corr_down"]) == (1, 1)
    assert synthetic["lum_corr_mean_change"] == pytest.approx((0.05 + 0.0005 - 0.10) / 4, abs=1e-4)
    seed0 = synthetic["per_seed"]["0"]
    assert seed0["base"]["lum_corr"] == pytest.approx(0.935) and seed0["variant"]["lum_corr"] == 0.96
    assert seed0["base"]["runs_at_0.95"] == 1 and seed0["variant"]["runs_at_0.95"] == 2
    assert seed0["variant"]["ssim"] == 0.8
    # each target's mean over its seeds, then the median over targets
    assert synthetic["seed_mean"]["base"]["lum_corr"] == pytest.approx((0.93 + 0.885) / 2, abs=1e-4)
    references = out["groups"]["references"]
    assert references["runs"] == 1 and references["lum_corr_down"] == 1
    changes = {(r["target"], r["seed"]): r["lum_corr_change"] for r in out["per_run"]}
    assert changes[("synthetic-2", 1)] == pytest.approx(-0.10)


def test_sides_with_nothing_in_common_are_an_error() -> None:
    with pytest.raises(CompareError, match="share no run"):
        compare(runs_of(BASE[1:]), runs_of(VARIANT[1:]))


def test_the_command_writes_json_and_says_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = []
    for i, result in enumerate([*BASE, *VARIANT]):
        paths.append(tmp_path / f"r{i}.json")
        paths[-1].write_text(json.dumps(result))
    out = tmp_path / "cmp.json"
    args = ["--base", str(paths[0]), str(paths[1]), "--variant", str(paths[2]), str(paths[3])]
    assert main([*args, "--json", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["runs"] == 5 and written["base"] == [str(paths[0]), str(paths[1])]
    capsys.readouterr()
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["--base", str(tmp_path / "bad.json"), "--variant", str(paths[2])]) == 2
    assert "bad.json" in capsys.readouterr().err
