"""sample_params(): reproducible, valid, distributed as specified, layer counts under control, no blowouts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from core.params import GEOMETRIES, resolve, sample_params, validate
from core.params.blowout import BLOWOUT_LIMIT, guard_scale_factor, instance_scales, largest_instance
from core.params.sampling import STRATIFIED


def _lower_colours(obj):
    if isinstance(obj, dict):
        return {k: _lower_colours(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_lower_colours(v) for v in obj]
    return obj.lower() if isinstance(obj, str) and obj.startswith("#") else obj


def _get(sample: dict, key: str):
    group, _, name = key.partition(".")
    return sample[group][name] if name else sample[group]


@pytest.fixture(scope="module")
def weighted() -> list[dict]:
    return sample_params(3000, seed=11)


def test_reproducible_and_independent_of_n():
    a = sample_params(40, seed=5, mode="weighted")
    assert a == sample_params(40, seed=5, mode="weighted")
    assert sample_params(7, seed=5)[6] == a[6]  # sample i of seed s does not depend on n
    assert a != sample_params(40, seed=6)
    for mode in ("uniform", "stratified"):
        assert sample_params(25, 3, mode)[:10] == sample_params(10, 3, mode)


@pytest.mark.parametrize("mode", ["weighted", "uniform", "stratified"])
def test_samples_are_complete_and_validate_without_clamping(mode, shared: Path):
    golden_keys = list(json.loads((shared / "golden" / "000.json").read_text()))
    for sample in sample_params(300, seed=1, mode=mode):
        assert list(sample) == golden_keys
        assert validate(sample) == _lower_colours(sample)
        out = resolve(sample)  # quantisation changes nothing: scalars already have 3 decimals
        for key in (
            "repetitions",
            "alphaFactor",
            "scaleFactor",
            "rotationFactor",
            "stepFactor",
            "rotation",
            "scale",
        ):
            assert out[key] == sample[key]
        assert sample["debug"] is False
        json.dumps(sample)  # plain JSON types only


def test_weighted_categorical_frequencies_follow_bb_llm_weights(weighted):
    counts = Counter(s["geometry"] for s in weighted)
    weights = np.array([5, 1, 1, 2, 1, 1, 1, 5, 1, 5], float)
    expected = weights / weights.sum() * len(weighted)
    observed = np.array([counts[g] for g in GEOMETRIES])
    assert np.all(np.abs(observed - expected) < 5 * np.sqrt(expected))  # ≈ 5σ
    coupled = np.mean([s["positionCoupled"] for s in weighted])
    assert 0.66 < coupled < 0.74
    noise = np.mean([s["noise"]["enabled"] for s in weighted])
    assert 0.09 < noise < 0.15
    assert all(s["position"] == {"x": 0, "y": -0.5} for s in weighted)


def test_weighted_continuous_distributions(weighted):
    reps = np.array([s["repetitions"] for s in weighted])
    assert 0.95 < np.mean(reps >= 80) < 0.98  # 0.8 + 0.2 · 421/500 ≈ 0.968
    alpha = np.array([s["alphaFactor"] for s in weighted])
    assert 0.68 < np.mean(alpha) < 0.75  # pow 0.4: E = 1/1.4 ≈ 0.714
    width = np.array([s["geoWidth"] for s in weighted])
    assert np.median(width) < 0.03  # pow 2.5 leans thin
    lo, hi = np.array([s["gradientRange"] for s in weighted]).T
    assert np.all(lo <= hi)


def test_weighted_layer_structure(weighted):
    symmetric = 0
    for s in weighted:
        layers = s["layers"]
        if layers and layers[0]["position"] == {"x": 0, "y": 0} and layers[0]["rotation"] == 0:
            symmetric += 1
            assert layers[0]["scale"] in ({"x": -1, "y": 1}, {"x": 1, "y": -1}, {"x": -1, "y": -1})
            assert len(layers) in (1, 3, 5)
            for base, mirror in zip(layers[1::2], layers[2::2], strict=True):
                assert mirror["position"] == base["position"] and mirror["rotation"] == base["rotation"]
                assert {abs(v) for v in mirror["scale"].values()} == {abs(v) for v in base["scale"].values()}
                assert {k: v for k, v in mirror.items() if k != "scale"} == {
                    k: v for k, v in base.items() if k != "scale"
                }
        for layer in layers:
            assert all(-1 <= v <= 1 for v in layer["position"].values())
    assert 0.6 < symmetric / len(weighted) < 0.8


def test_stratified_counts_are_exactly_balanced():
    samples = sample_params(420, seed=2, mode="stratified")  # 420 = lcm of every option count
    for key, options in STRATIFIED:
        if key == "crt.mask":
            continue  # drawn balanced, but only kept where crt is enabled
        counts = Counter(_get(s, key) for s in samples)
        assert set(counts) == set(options), key
        assert len(set(counts.values())) == 1, (key, counts)
    odd = sample_params(101, seed=2, mode="stratified")
    for key, _ in STRATIFIED[:8]:
        counts = Counter(_get(s, key) for s in odd).values()
        assert max(counts) - min(counts) <= 1, key


def test_uniform_mode_is_flat_over_options_and_bounds():
    samples = sample_params(1200, seed=4, mode="uniform")
    counts = Counter(s["geometry"] for s in samples)
    assert min(counts.values()) > 80 and max(counts.values()) < 160
    assert 0.4 < np.mean([s["noise"]["enabled"] for s in samples]) < 0.6
    xs = np.array([s["position"]["x"] for s in samples])
    assert xs.min() < -1.8 and xs.max() > 1.8


@pytest.mark.parametrize("mode", ["weighted", "uniform", "stratified"])
def test_layer_count_control(mode):
    assert all(s["layers"] == [] for s in sample_params(30, 9, mode, n_layers=0))
    assert all(len(s["layers"]) == 3 for s in sample_params(30, 9, mode, n_layers=3))
    counts = Counter(len(s["layers"]) for s in sample_params(120, 9, mode, n_layers=(1, 2)))
    assert set(counts) == {1, 2}
    assert all(len(s["layers"]) == 4 for s in sample_params(10, 9, mode, n_layers=(4, 4)))


def test_bad_arguments_are_refused():
    for bad in (-1, (2, 1), (0, 1, 2), 1.5, True):
        with pytest.raises(ValueError):
            sample_params(1, 0, n_layers=bad)
    with pytest.raises(ValueError):
        sample_params(1, 0, mode="sobol")


# ---------------------------------------------------------------- blowout guard


def test_instance_scales_follow_spec_section_3():
    i = np.arange(5)
    assert np.allclose(instance_scales("exponential", 1.1, 5), 1.1**i)
    assert np.allclose(instance_scales("linear", 0.5, 5), np.maximum(0.01, 1 - 0.1 * i * 0.5))
    assert np.allclose(instance_scales("additive", 0.5, 5), 1 - 0.5 * i)
    assert np.allclose(instance_scales("golden", 1.1, 5), 1.1 ** (0.382 * i))
    assert instance_scales("unknown", 2, 3.9).tolist() == [1, 2, 4]  # floor(repetitions) instances


def test_guard_moves_scale_factor_toward_one_just_enough():
    assert guard_scale_factor("exponential", 1.01, 100, 5) == 1.01  # 1.01**99 ≈ 2.7: fine
    f = guard_scale_factor("exponential", 1.5, 300, 5)
    assert 1 < f < 1.5 and largest_instance("exponential", f, 300) <= 5
    assert largest_instance("exponential", f + 0.001, 300) > 5  # no further than needed (3 decimals)
    g = guard_scale_factor("additive", 0.0, 500, 5)  # σ reaches −498: reflected, still huge
    assert 0 < g < 1 and largest_instance("additive", g, 500) <= 5


def test_samples_never_blow_up(weighted):
    for s in weighted[:1000]:
        reps, prog, scale = s["repetitions"], s["scaleProgression"], s["scale"]
        shared = [lay for lay in s["layers"] if "scaleFactor" not in lay]
        spread = max([1.0] + [max(abs(v) for v in lay["scale"].values()) for lay in shared])
        assert largest_instance(prog, s["scaleFactor"], reps) * scale * spread <= BLOWOUT_LIMIT + 1e-9
        for lay in s["layers"]:
            if "scaleFactor" in lay:
                own = max(abs(v) for v in lay["scale"].values())
                assert largest_instance(prog, lay["scaleFactor"], reps) * scale * own <= BLOWOUT_LIMIT + 1e-9
    raw = sample_params(300, seed=11, blowout_limit=None)
    assert any(largest_instance(s["scaleProgression"], s["scaleFactor"], s["repetitions"]) > 1e3 for s in raw)
    assert [s["geometry"] for s in raw] == [s["geometry"] for s in weighted[:300]]  # only scaleFactor changes


@pytest.mark.parametrize("seed", [-1, 1.5, "abc", None])
def test_a_seed_must_be_a_whole_number(seed: object) -> None:
    """numpy's own errors did not name the seed, and None drew unreproducible scenes."""
    with pytest.raises(ValueError, match="seed must be a whole number ≥ 0"):
        sample_params(2, seed)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n must be a whole number ≥ 0"):
        sample_params(2.5, 0)  # type: ignore[arg-type]
