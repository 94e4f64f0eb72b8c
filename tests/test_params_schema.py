"""The schema tables: spec §9 values, Leva names, and coverage of every key the designer's refs use."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from core.params import (
    CRT,
    GEOMETRIES,
    LAYER_OVERRIDE_NAMES,
    MAIN_PARAMS,
    NOISE,
    SCALE_PROGRESSIONS,
    Kind,
    default_layer,
    defaults,
)
from core.params.schema import FLAT_ALIASES, LAYER_PARAMS, LEVA_TO_FLAT, MAIN_BY_NAME, layer_key


def test_option_lists_match_spec_order():
    assert GEOMETRIES == (
        "ring", "bar", "line", "arch", "u", "spiral", "wave", "infinity", "square", "roundedRect",
    )  # fmt: skip
    assert SCALE_PROGRESSIONS == ("linear", "exponential", "additive", "fibonacci", "golden", "sine")
    assert CRT.param("mask").options == ("none", "shadow", "grille", "stretched", "vga")


@pytest.mark.parametrize(
    ("name", "default", "bounds"),
    [
        ("repetitions", 75, (1, 500)),
        ("alphaFactor", 0.68, (0, 1)),
        ("scaleFactor", 1.03, (0, 2)),
        ("rotationFactor", -0.48, (-1, 1)),
        ("stepFactor", 0.02, (0, 2)),
        ("xStep", -1.5, (-2, 2)),
        ("yStep", 0, (-2, 2)),
        ("scale", 0.4, (0, 2)),
        ("geoWidth", 0.041, (0.001, 0.1)),
        ("rotation", 0, (-math.pi, math.pi)),
    ],
)
def test_numeric_defaults_and_bounds(name, default, bounds):
    param = MAIN_BY_NAME[name]
    assert param.kind is Kind.NUMBER
    assert param.default == default
    assert param.bounds == bounds


def test_leva_names_follow_the_folders():
    leva = {p.name: p.leva for p in MAIN_PARAMS}
    assert leva["geometry"] == "Element.geometry"
    assert leva["repetitions"] == "Scalars.repetitions"
    assert leva["origin"] == "Spatial.origin"
    assert leva["position"] == "Scene.position"
    assert NOISE.param("density").leva == "Noise.density"
    assert CRT.param("mask").leva == "CRT.mask"
    assert layer_key(3, "scaleFactor") == "Groups.g3.g3-scaleFactor"


def test_defaults_cover_every_renderer_key():
    d = defaults()
    assert d["position"] == {"x": 0, "y": -0.5}
    assert d["gradientRange"] == [0.2, 1.0]
    assert d["noise"] == {"enabled": False, "density": 0.11, "opacity": 0.11, "size": 0.3}
    assert d["crt"]["mask"] == "grille" and len(d["crt"]) == 9
    assert d["layers"] == []
    assert "animate" not in d and "width" not in d  # obsolete keys have no renderer default
    assert default_layer() == {
        "position": {"x": -0.003, "y": -0.462},
        "rotation": 0,
        "scale": {"x": -1, "y": 1},
    }
    d["position"]["x"] = 9
    assert defaults()["position"]["x"] == 0  # fresh copies, no shared state


def test_flat_aliases():
    assert FLAT_ALIASES["noiseEnabled"] == ("noise", "enabled")
    assert FLAT_ALIASES["crtMaskStrength"] == ("crt", "maskStrength")
    assert len(FLAT_ALIASES) == 13


def test_layer_overrides_share_main_bounds():
    assert LAYER_OVERRIDE_NAMES == (
        "stepFactor", "alphaFactor", "scaleFactor", "rotationFactor",
        "color", "geoWidth", "geometry", "startAngle",
    )  # fmt: skip
    for name in LAYER_OVERRIDE_NAMES:
        assert LAYER_PARAMS[name].bounds == MAIN_BY_NAME[name].bounds
        assert LAYER_PARAMS[name].options == MAIN_BY_NAME[name].options


def test_every_key_in_the_refs_is_in_the_schema(shared: Path):
    seen = set()
    for path in sorted((shared / "refs").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            seen.update(json.loads(line))
    layer_re = re.compile(r"^Groups\.g(\d+)\.g\1-(\w+)$")
    unknown = []
    for key in seen:
        match = layer_re.match(key)
        if not (match.group(2) in LAYER_PARAMS if match else key in LEVA_TO_FLAT):
            unknown.append(key)
    assert not unknown
    # the obsolete ones the refs carry are in the schema as such
    for key in ("Dither.type", "Element.width", "Noise.blend"):
        assert key in seen and key in LEVA_TO_FLAT
