"""The refinement search space: vector ↔ params both ways, always valid params."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.params import sample_params, validate
from core.params.schema import MAIN_BY_NAME
from core.refine.space import ANGLES, Dim, ParamSpace, complete
from core.render import render


@pytest.fixture(scope="module")
def scenes() -> list[dict]:
    return sample_params(12, seed=123, mode="weighted") + sample_params(4, seed=7, mode="uniform")


def test_encode_decode_round_trip(scenes: list[dict]) -> None:
    for params in scenes:
        space = ParamSpace(params)
        x, c = space.encode(params)
        assert x.shape == (space.n_continuous,) and c.shape == (space.n_categorical,)
        assert np.all((x >= 0) & (x <= 1))
        x2, c2 = space.encode(space.decode(x, c))
        np.testing.assert_allclose(x2, x, atol=1e-3)
        np.testing.assert_array_equal(c2, c)


def test_decode_of_encode_draws_the_same_picture(scenes: list[dict]) -> None:
    for params in scenes[:6]:
        space = ParamSpace(params)
        again = space.decode(*space.encode(params))
        np.testing.assert_array_equal(render(again, 64, 36, "draft"), render(params, 64, 36, "draft"))


def test_any_vector_decodes_to_valid_params_inside_the_bounds(scenes: list[dict]) -> None:
    """decode does not run validate (its parent process pays for every candidate): it must not need to."""
    rng = np.random.default_rng(0)
    for params in scenes:
        for effects in (False, True):
            space = ParamSpace(params, effects=effects)
            n = space.n_continuous
            edges = [np.zeros(n), np.ones(n), np.full(n, 0.5)]  # every bound at once (±π rounds outward)
            for x in edges + [rng.normal(0.5, 3.0, n) for _ in range(40)]:  # far outside [0, 1] on purpose
                c = np.array([rng.integers(k) for k in space.cat_num])
                out = space.decode(x, c)
                assert validate(out) == out  # valid and already clamped: validation changes nothing
                for name in ("geoWidth", "alphaFactor", "scaleFactor", "stepFactor", "xStep", "scale"):
                    lo, hi = MAIN_BY_NAME[name].bounds
                    assert lo <= out[name] <= hi
                assert isinstance(out["repetitions"], int) and 1 <= out["repetitions"] <= 500


def test_angles_wrap_and_other_coordinates_reflect() -> None:
    angle = Dim(("rotation",), -math.pi, math.pi, periodic=True)
    assert angle.value(0.25) == pytest.approx(angle.value(1.25))
    assert angle.value(-0.1) == pytest.approx(angle.value(0.9))
    plain = Dim(("scale",), 0.0, 2.0)
    assert plain.value(1.1) == pytest.approx(plain.value(0.9))  # reflected, not clipped to a plateau
    assert plain.value(-0.2) == pytest.approx(plain.value(0.2))
    assert plain.value(1.1) != plain.value(1.2)
    reps = Dim(("repetitions",), 1, 500, integer=True)
    assert reps.value(0.5) == round(reps.value(0.5))


def test_space_covers_categoricals_layers_and_overrides() -> None:
    params = sample_params(1, seed=3, mode="weighted", n_layers=0)[0]
    space = ParamSpace(params)
    paths = {d.path for d in space.dims}
    assert {("startAngle",), ("gradientAngle",), ("rotation",)} <= {d.path for d in space.dims if d.periodic}
    assert all(d.path[0] in ANGLES or d.path[-1] == "rotation" for d in space.dims if d.periodic)
    assert ("layers", 0, "position", "x") in paths  # the implicit mirror layer is made explicit
    choices = {ch.path: ch.options for ch in space.choices}
    for name in ("geometry", "scaleProgression", "rotationProgression", "alphaProgression"):
        assert choices[(name,)] == MAIN_BY_NAME[name].options
    assert choices[("positionCoupled",)] == (True, False)
    assert ("origin",) in choices and ("positionProgression",) in choices
    assert list(space.cat_num) == [len(o) for o in choices.values()]

    with_overrides = {
        **params,
        "layers": [{**complete(params)["layers"][0], "geometry": "wave", "alphaFactor": 0.3}],
    }
    space2 = ParamSpace(with_overrides)
    assert ("layers", 0, "alphaFactor") in {d.path for d in space2.dims}
    assert ("layers", 0, "geometry") in {ch.path for ch in space2.choices}


def test_layer_sign_and_visibility_categoricals() -> None:
    params = sample_params(1, seed=3, mode="weighted", n_layers=0)[0]
    space = ParamSpace(params)
    x, c = space.encode(params)
    index = {ch.path: i for i, ch in enumerate(space.choices)}
    assert complete(params)["layers"][0]["scale"] == {"x": -1, "y": 1}
    flipped = c.copy()
    flipped[index[("layers", 0, "scale", "x", "sign")]] = 1  # options (-1, +1)
    assert space.decode(x, flipped)["layers"][0]["scale"]["x"] == pytest.approx(1.0)
    hidden = c.copy()
    hidden[index[("layers", 0, "visible")]] = 1  # options (True, False)
    assert space.decode(x, hidden)["layers"][0]["scale"] == {"x": 0.0, "y": 0.0}
    assert space.encode(space.decode(x, hidden))[1][index[("layers", 0, "visible")]] == 1


def test_effects_switch_only_when_asked() -> None:
    """Refinement (effects=True) can turn a template's CRT off; exploration's default keeps it."""
    params = {**sample_params(1, 3, mode="weighted", n_layers=0)[0]}
    params["crt"] = {**params["crt"], "enabled": True}
    plain = ParamSpace(params)
    assert all(ch.path[0] not in ("noise", "crt") for ch in plain.choices)
    space = ParamSpace(params, effects=True)
    index = {ch.path: i for i, ch in enumerate(space.choices)}
    x, c = space.encode(params)
    assert space.choices[index[("crt", "enabled")]].options[c[index[("crt", "enabled")]]] is True
    c[index[("crt", "enabled")]] = space.choices[index[("crt", "enabled")]].options.index(False)
    off = space.decode(x, c)
    assert off["crt"]["enabled"] is False and off["crt"]["scale"] == params["crt"]["scale"]
