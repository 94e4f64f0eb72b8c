"""Target encoding: sampled scenes survive encode → decode within the codec's quantisation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.inverse.encoding import (
    CATEGORICALS,
    CONTINUOUS_NAMES,
    N_CONTINUOUS,
    decode,
    encode,
    layer_mode,
    natural_errors,
    rgb_to_hex,
)
from core.params import resolve, sample_params, validate


def _flags(t):
    return {k: v > 0.5 for k, v in t.flags.items()}


@pytest.mark.parametrize(("n_layers", "mode"), [(0, "weighted"), (None, "weighted"), (None, "uniform")])
def test_round_trip_recovers_params(n_layers, mode):
    for p in sample_params(60, 11, mode=mode, n_layers=n_layers):
        t = encode(p)
        back = decode(t.continuous, t.classes, _flags(t))
        assert validate(back) == back  # valid and already clamped / canonical
        for name in CATEGORICALS:
            if name != "layerMode":
                assert back[name] == p[name]
        assert back["repetitions"] == p["repetitions"]
        for key in ("alphaFactor", "scaleFactor", "rotationFactor", "stepFactor", "xStep", "yStep", "scale"):
            assert back[key] == pytest.approx(p[key], abs=1.5e-3)
        for key in ("rotation", "startAngle", "gradientAngle"):
            diff = abs(back[key] - p[key]) % (2 * math.pi)
            assert min(diff, 2 * math.pi - diff) < 2e-3
        assert back["geoWidth"] == pytest.approx(p["geoWidth"], rel=0.02, abs=1e-3)
        assert back["color"] == p["color"].lower()
        assert back["positionCoupled"] == p["positionCoupled"]
        assert back["noise"]["enabled"] == p["noise"]["enabled"]
        assert layer_mode(back["layers"]) == layer_mode(p["layers"])
        t2 = encode(back)
        assert np.abs((t2.continuous - t.continuous) * t.mask).max() < 0.01


def test_layer_modes_are_recognised_and_decoded():
    assert layer_mode([]) == "none"
    mirror = {"position": {"x": 0, "y": 0}, "rotation": 0, "scale": {"x": 1, "y": -1}}
    assert layer_mode([mirror]) == "mirror_y"
    assert layer_mode([{**mirror, "rotation": 0.5}]) == "other"
    t = encode({"layers": [mirror]})
    back = decode(t.continuous, t.classes, _flags(t))
    assert back["layers"] == [mirror]
    # "none" decodes to no layers: the renderer then draws its implicit mirror layer
    t = encode({})
    assert decode(t.continuous, t.classes, _flags(t))["layers"] == []
    assert len(resolve({"layers": []})["layers"]) == 1


def test_other_layer_transform_is_supervised_only_for_other():
    other = {"position": {"x": 0.5, "y": -0.25}, "rotation": 1.0, "scale": {"x": -1.5, "y": 0.75}}
    t = encode({"layers": [other]})
    layer_idx = [i for i, n in enumerate(CONTINUOUS_NAMES) if n.startswith("layer.")]
    assert t.mask[layer_idx].all()
    back = decode(t.continuous, t.classes, _flags(t))["layers"][0]
    assert back["position"] == pytest.approx(other["position"], abs=1e-3)
    assert back["scale"] == pytest.approx(other["scale"], abs=1e-3)
    assert encode({}).mask[layer_idx].sum() == 0


def test_decode_clamps_wild_outputs_into_valid_params():
    rng = np.random.default_rng(0)
    for _ in range(20):
        cont = rng.normal(0, 5, N_CONTINUOUS)
        classes = {k: int(rng.integers(len(v))) for k, v in CATEGORICALS.items()}
        flags = {"positionCoupled": True, "noise.enabled": False, "crt.enabled": True}
        params = decode(cont, classes, flags)
        assert validate(params) == params


def test_natural_errors_are_in_natural_units():
    a = encode({"repetitions": 100, "rotation": 3.1, "color": "#ff0000"})
    b = encode({"repetitions": 110, "rotation": -3.1, "color": "#f00a00"})
    err = natural_errors(b.continuous, a.continuous, a.mask)
    assert err["repetitions"][0] == pytest.approx(10, abs=0.01)
    assert err["rotation"][0] == pytest.approx(2 * math.pi - 6.2, abs=1e-6)  # wraps around ±π
    assert err["color.g"][0] == pytest.approx(10, abs=0.01)
    assert np.isnan(err["layer.position.x"][0])
    assert rgb_to_hex((1.0, 0.5, 0.0)) == "#ff8000"
