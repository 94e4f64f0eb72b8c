"""validate(): the original's clamping and our strict errors; resolve(): the renderer's exact input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from core.params import ParamsError, resolve, to_prefixed, validate
from core.params.errors import json_spelling
from core.params.js import js_round, quantise


def _ref_lines(shared: Path):
    for path in sorted((shared / "refs").glob("*.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            yield f"{path.name}:{number}", json.loads(line)


def _golden(shared: Path, i: int) -> dict:
    return json.loads((shared / "golden" / f"{i:03d}.json").read_text())


def _lower_colours(obj):
    if isinstance(obj, dict):
        return {k: _lower_colours(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_lower_colours(v) for v in obj]
    return obj.lower() if isinstance(obj, str) and obj.startswith("#") else obj


# ---------------------------------------------------------------- clamping (spec §2.3)


@pytest.mark.parametrize(
    ("key", "given", "expected"),
    [
        ("repetitions", 524, 500),
        ("repetitions", -27, 1),
        ("repetitions", 175.0484274737984, 175.0484274737984),  # clamped only, never floored
        ("alphaFactor", 0.996, 0.996),  # not rounded to the control's 0.01 step
        ("scaleFactor", 2.3127955270548934, 2),
        ("rotation", 4.0, math.pi),
        ("xStep", -2.5, -2),
    ],
)
def test_numbers_are_clamped_not_rounded(key, given, expected):
    assert validate({key: given})[key] == expected


def test_vectors_intervals_and_groups_are_clamped_per_component():
    out = validate(
        {
            "position": {"x": 3.5, "y": -0.25},
            "gradientRange": [-1.5, 2.5],
            "noise": {"size": 10.443136679708909, "opacity": 0.5},
            "layers": [{"position": {"x": -9, "y": 1}, "scale": {"x": 0.3151, "y": -2.2}, "stepFactor": 3}],
        }
    )
    assert out["position"] == {"x": 2, "y": -0.25}
    assert out["gradientRange"] == [-1, 2]
    assert out["noise"] == {"size": 0.55, "opacity": 0.3}
    assert out["layers"][0] == {
        "position": {"x": -2, "y": 1},
        "scale": {"x": 0.3151, "y": -2},
        "stepFactor": 2,
    }


def test_reversed_gradient_range_keeps_its_order():
    assert validate({"gradientRange": [1.2, 0.3]})["gradientRange"] == [1.2, 0.3]


def test_colours_are_lower_cased_and_expanded():
    assert validate({"color": "#FFFDDD"})["color"] == "#fffddd"
    assert validate({"color": "#AbC"})["color"] == "#aabbcc"
    assert validate({"layers": [{"color": "#F5DEB3"}]})["layers"][0]["color"] == "#f5deb3"


def test_validate_keeps_given_keys_types_and_obsolete_keys():
    given = {
        "repetitions": 80,
        "rotation": 0,
        "width": 0.78,
        "animate": True,
        "dither": {"type": "bayer", "matrix": 4},
    }
    out = validate(given)
    assert out == given and type(out["repetitions"]) is int
    assert validate({"repetitions": np.int64(7), "scale": np.float32(0.5)}) == {
        "repetitions": 7,
        "scale": 0.5,
    }


def test_flat_aliases_are_lifted():
    assert validate({"noiseEnabled": 1, "noiseDensity": 0.5}) == {"noise": {"enabled": True, "density": 0.5}}


def test_bools_accept_zero_and_one_and_js_truthiness_on_request():
    assert validate({"positionCoupled": 0, "debug": 1.0}) == {"positionCoupled": False, "debug": True}
    with pytest.raises(ParamsError) as err:
        validate({"positionCoupled": 1.1755182255759768})
    assert err.value.key == "positionCoupled"
    assert validate({"positionCoupled": 1.1755182255759768}, js_bools=True) == {"positionCoupled": True}


# ---------------------------------------------------------------- errors name key, value and allowed


@pytest.mark.parametrize(
    ("params", "key", "value"),
    [
        ({"repetitons": 5}, "repetitons", 5),  # unknown key
        ({"Element.geometry": "ring", "Scalars.colour": "#fff"}, "Scalars.colour", "#fff"),
        ({"repetitions": True}, "repetitions", True),  # bool is not a number
        ({"debug": 2}, "debug", 2),  # number is not a bool
        ({"positionCoupled": "true"}, "positionCoupled", "true"),
        ({"scale": float("nan")}, "scale", float("nan")),
        ({"rotation": float("inf")}, "rotation", float("inf")),
        ({"repetitions": 2e6}, "repetitions", 2e6),  # the codec would corrupt it (32-bit zigzag)
        ({"color": "#ggg"}, "color", "#ggg"),
        ({"color": "white"}, "color", "white"),
        ({"color": "#fffddd80"}, "color", "#fffddd80"),
        ({"geometry": "disc"}, "geometry", "disc"),
        ({"crt": {"mask": "lcd"}}, "crt.mask", "lcd"),
        ({"layers": {"position": {"x": 0, "y": 0}}}, "layers", {"position": {"x": 0, "y": 0}}),
        ({"layers": [[1, 2]]}, "layers[0]", [1, 2]),
        ({"position": {"x": 0}}, "position", {"x": 0}),
        ({"position": [0, 1]}, "position", [0, 1]),
        ({"position": {"x": 0, "y": "1"}}, "position.y", "1"),
        ({"layers": [{"scale": {"x": 1, "y": 1, "z": 1}}]}, "layers[0].scale", {"x": 1, "y": 1, "z": 1}),
        ({"gradientRange": [0.2]}, "gradientRange", [0.2]),
        ({"noise": {"grain": 0.1}}, "noise.grain", 0.1),
        ({"layers": [{"geometry": "q"}]}, "layers[0].geometry", "q"),
    ],
)
def test_errors_name_key_value_and_allowed(params, key, value):
    with pytest.raises(ParamsError) as err:
        validate(params)
    e = err.value
    assert e.key == key
    assert e.value == value or (isinstance(value, float) and math.isnan(value) and math.isnan(e.value))
    assert e.allowed
    message = str(e)
    assert key in message and json_spelling(value)[:20] in message and "allowed" in message
    assert isinstance(e, ValueError)


def test_errors_spell_values_as_json_the_way_users_wrote_them():
    """Params arrive as JSON: messages quote `true` and `{"value": 5}`, not True and {'value': 5}."""
    with pytest.raises(ParamsError) as err:
        validate({"repetitions": True})
    assert "repetitions: " in str(err.value) and " true;" in str(err.value) and "True" not in str(err.value)
    with pytest.raises(ParamsError) as err:
        validate({"Element.geometry": "ring", "Scalars.repetitions": {"value": 5, "bogus": 1}})
    assert '{"value": 5' in str(err.value) and "'value'" not in str(err.value)
    with pytest.raises(ParamsError) as err:
        validate({"geometry": "disc"})
    assert '"disc"' in str(err.value) and '"ring"' in str(err.value)  # the value and the allowed names
    assert json_spelling(np.int64(7)) == "7" and json_spelling(float("nan")) == "NaN"


def test_an_unknown_key_suggests_the_close_one_and_lists_todays_keys():
    with pytest.raises(ParamsError, match=r'repetitons: unknown key \(did you mean "repetitions"\?\)') as err:
        validate({"repetitons": 5})
    assert "repetitions" in err.value.allowed and "crt" in err.value.allowed
    assert not {"_wrappers", "width", "transform", "crtWarp"} & set(err.value.allowed)  # accepted, not listed
    with pytest.raises(ParamsError, match=r'colour: unknown key \(did you mean "color"\?\)'):
        validate({"colour": "#ffffff"})
    with pytest.raises(ParamsError, match=r"zzz: unknown key: 5"):  # nothing close: no guess
        validate({"zzz": 5})
    assert validate({"width": 1, "crtWarp": 0.1})  # obsolete keys and flat aliases still validate
    with pytest.raises(ParamsError, match=r"wrapped values go with Leva keys, here Element\.geometry"):
        validate({"geometry": {"value": "ring"}})  # a flat key wrapped: it said only "unknown key"


def test_prefixed_and_wrapped_inputs_validate_to_flat():
    flat = {"geometry": "u", "scale": 0.5, "layers": [{"rotation": 1, "disabled": {"color": "#FFF"}}]}
    for wrapped in (False, True):
        assert validate(to_prefixed(flat, wrapped=wrapped)) == {
            **flat,
            "layers": [{"rotation": 1, "disabled": {"color": "#ffffff"}}],
        }


# ---------------------------------------------------------------- quantisation (spec §2.2)


@pytest.mark.parametrize(
    ("given", "expected"),
    [(0.0125, 0.013), (-0.0125, -0.012), (-0.0625, -0.062), (0.4445, 0.445), (-0.0005, 0.0), (1.0005, 1.001)],
)
def test_quantisation_rounds_halves_up_like_javascript(given, expected):
    assert quantise(given) == expected
    assert resolve({"xStep": given})["xStep"] == expected


def test_js_round_is_exact_where_adding_a_half_is_not():
    assert js_round(0.49999999999999994) == 0  # floor(x + 0.5) would give 1
    assert js_round(-2.5) == -2 and js_round(2.5) == 3


def test_resolve_quantises_scalars_then_clamps_but_not_objects():
    out = resolve(
        {
            "rotation": 3.1414,  # → 3.141, inside
            "startAngle": 3.14159265,  # → 3.142, then clamped to π
            "position": {"x": 0.12345, "y": -0.0005},
            "gradientRange": [0.12345, 1.0005],
            "layers": [{"rotation": 1.0005, "position": {"x": 0.12345, "y": 0}, "stepFactor": 0.0125}],
        }
    )
    assert out["rotation"] == 3.141 and out["startAngle"] == math.pi
    assert out["position"] == {"x": 0.12345, "y": -0.0005}
    assert out["gradientRange"] == (0.12345, 1.0005)
    layer = out["layers"][0]
    assert layer["rotation"] == 1.001 and layer["position"] == {"x": 0.12345, "y": 0.0}
    assert layer["overrides"] == {"stepFactor": 0.013}


# ---------------------------------------------------------------- resolve's shape


def test_resolve_shape_and_defaults():
    out = resolve({})
    assert list(out) == [
        "geometry", "color", "repetitions", "alphaFactor", "scaleFactor", "rotationFactor", "stepFactor",
        "scaleProgression", "rotationProgression", "alphaProgression", "positionProgression", "origin",
        "positionCoupled", "debug", "xStep", "yStep", "position", "rotation", "scale", "geoWidth",
        "startAngle", "gradientAngle", "gradientRange", "noise", "crt", "layers",
    ]  # fmt: skip
    assert out["color"] == "#efeddb" and out["repetitions"] == 75.0 and type(out["repetitions"]) is float
    assert out["position"] == {"x": 0.0, "y": -0.5} and out["gradientRange"] == (0.2, 1.0)
    assert out["noise"] == {"enabled": False, "density": 0.11, "opacity": 0.11, "size": 0.3}
    assert list(out["crt"]) == [
        "enabled",
        "bleed",
        "bloom",
        "brightness",
        "mask",
        "maskStrength",
        "scale",
        "scanlines",
        "warp",
    ]
    # no layer keys: the implicit default layer of spec §2.4
    assert out["layers"] == [
        {
            "position": {"x": -0.003, "y": -0.462},
            "rotation": 0.0,
            "scale": {"x": -1.0, "y": 1.0},
            "overrides": {},
        }
    ]
    assert resolve({"layers": []})["layers"] == out["layers"]
    for key in (
        "xStep",
        "yStep",
        "rotation",
        "scale",
        "geoWidth",
        "startAngle",
        "gradientAngle",
        "alphaFactor",
    ):
        assert type(out[key]) is float


def test_resolve_drops_disabled_overrides_and_obsolete_keys():
    line = {
        "Element.geometry": "ring",
        "Scene.animate": True,
        "Dither.enabled": True,
        "Groups.g0.g0-position": {"x": 0, "y": 0},
        "Groups.g0.g0-alphaFactor": {"value": 0.5, "disabled": True},
        "Groups.g0.g0-color": "#FFF",
    }
    out = resolve(line)
    assert "animate" not in out and "dither" not in out
    assert out["layers"] == [
        {
            "position": {"x": 0.0, "y": 0.0},
            "rotation": 0.0,
            "scale": {"x": -1.0, "y": 1.0},
            "overrides": {"color": "#ffffff"},
        }
    ]


def test_resolve_is_idempotent_and_accepts_its_own_output(shared: Path):
    for i in (0, 5, 13):
        once = resolve(_golden(shared, i))
        assert resolve(once) == once


def test_resolve_rejects_what_the_codec_would_corrupt():
    with pytest.raises(ParamsError) as err:
        resolve({"layers": [{"rotation": 1.5e6}]})
    assert err.value.key == "layers[0].rotation"


# ---------------------------------------------------------------- the shared data


def test_golden_sets_resolve_without_clamping(shared: Path):
    for i in range(24):
        flat = _golden(shared, i)
        assert validate(flat) == _lower_colours(flat), i
        out = resolve(flat)
        for key in (
            "repetitions",
            "alphaFactor",
            "scaleFactor",
            "xStep",
            "rotation",
            "scale",
            "geoWidth",
            "startAngle",
        ):
            assert out[key] == flat[key], (i, key)
        assert out["position"] == flat["position"] and list(out["gradientRange"]) == flat["gradientRange"]
        assert len(out["layers"]) == max(1, len(flat["layers"]))
        for got, layer in zip(out["layers"], flat["layers"], strict=False):
            assert got["position"] == layer["position"] and got["scale"] == layer["scale"]
            overrides = {k: v for k, v in layer.items() if k not in ("position", "rotation", "scale")}
            assert got["overrides"] == _lower_colours(overrides)


def test_golden_ref_1_resolves(shared: Path):
    ref = json.loads((shared / "golden" / "ref_1.json").read_text())
    out = resolve(ref)
    assert out["geometry"] == "ring" and out["gradientAngle"] == -1.37 and len(out["layers"]) == 5
    assert out["scaleProgression"] == "linear" and out["alphaProgression"] == "inverse"


def test_every_refs_line_validates(shared: Path):
    strict_failures = []
    for where, line in _ref_lines(shared):
        try:
            validate(line)
        except ParamsError as err:
            strict_failures.append((where, err.key, err.value))
        flat = validate(line, js_bools=True)
        assert "_wrappers" not in flat
        out = resolve(line, js_bools=True)
        assert 1 <= out["repetitions"] <= 500 and out["layers"]
    # the one CMA-ES line whose positionCoupled is 1.1755… (truthy in the original) needs js_bools
    assert strict_failures == [("refs.jsonl:88", "positionCoupled", 1.1755182255759768)]
