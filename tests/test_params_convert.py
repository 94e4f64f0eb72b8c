"""Flat ⇄ prefixed conversion: exact round trips (refs, golden, hypothesis), form detection, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.params import (
    CRT,
    GEOMETRIES,
    LAYER_OVERRIDE_NAMES,
    MAIN_PARAMS,
    NOISE,
    ORIGINS,
    ParamsError,
    detect_form,
    to_prefixed,
    to_scene_params,
)
from core.params.convert import is_wrapper

# ---------------------------------------------------------------- strategies (canonical flat dicts)

numbers = st.one_of(
    st.integers(-600, 600),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
vec2 = st.fixed_dictionaries({"x": numbers, "y": numbers})
colours = st.from_regex(r"#[0-9a-fA-F]{6}", fullmatch=True)


def _value_for(name: str):
    if name == "position":
        return vec2
    if name == "gradientRange":
        return st.lists(numbers, min_size=2, max_size=2)
    if name == "color":
        return colours
    if name == "geometry":
        return st.sampled_from(GEOMETRIES)
    if name == "origin":
        return st.sampled_from(ORIGINS)
    if name in ("positionCoupled", "debug", "enabled", "animate", "transform"):
        return st.booleans()
    if name in ("width", "blend"):
        return st.one_of(numbers, st.text(max_size=5))
    return numbers


def _subset(names):
    if not names:
        return st.just([])
    return st.lists(st.sampled_from(names), unique=True).map(lambda keys: [n for n in names if n in keys])


@st.composite
def layers(draw):
    fields = draw(_subset(["position", "rotation", "scale", *LAYER_OVERRIDE_NAMES]))
    layer = {n: draw(vec2 if n in ("position", "scale") else _value_for(n)) for n in fields}
    free = [n for n in LAYER_OVERRIDE_NAMES if n not in layer]
    disabled = draw(_subset(free))
    if disabled:
        layer["disabled"] = {n: draw(_value_for(n)) for n in disabled}
    return layer or {"position": draw(vec2)}  # an empty layer has no Leva form


@st.composite
def flat_params(draw):
    """Flat SceneParams in canonical form: nested noise/crt, `layers` always present."""
    flat = {n: draw(_value_for(n)) for n in draw(_subset([p.name for p in MAIN_PARAMS]))}
    for group in (NOISE, CRT):
        members = draw(_subset([p.name for p in group.params]))
        if members and draw(st.booleans()):
            flat[group.name] = {m: draw(_value_for(m)) for m in members}
    flat["layers"] = draw(st.lists(layers(), max_size=4))
    return flat


@st.composite
def mixed_prefixed(draw):
    """A prefixed map whose entries are randomly bare or wrapped, with any disabled flag."""
    base = to_prefixed(draw(flat_params()))
    out = {}
    for key, value in base.items():
        if is_wrapper(value):  # a disabled override stays disabled
            out[key] = value
            continue
        style = draw(st.sampled_from(["bare", "bare", "false", "none", "true"]))
        if style == "bare":
            out[key] = value
        elif style == "none":
            out[key] = {"value": value}
        else:
            out[key] = {"value": value, "disabled": style == "true"}
    return out


fast = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- property tests


@fast
@given(flat_params(), st.booleans())
def test_flat_prefixed_flat_is_exact(flat, wrapped):
    assert to_scene_params(to_prefixed(flat, wrapped=wrapped)) == flat


@fast
@given(mixed_prefixed())
def test_prefixed_flat_prefixed_is_exact(prefixed):
    wrapped = detect_form(prefixed) == "wrapped"
    assert to_prefixed(to_scene_params(prefixed), wrapped=wrapped) == prefixed


@fast
@given(flat_params())
def test_wrapped_form_wraps_every_value(flat):
    out = to_prefixed(flat, wrapped=True)
    assert all(is_wrapper(v) and "disabled" in v for v in out.values())
    assert not out or detect_form(out) == "wrapped"


# ---------------------------------------------------------------- the designer's and golden data


def _ref_lines(shared: Path):
    for path in sorted((shared / "refs").glob("*.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            yield f"{path.name}:{number}", json.loads(line)


def test_every_refs_line_round_trips(shared: Path):
    count = 0
    for where, line in _ref_lines(shared):
        flat = to_scene_params(line)
        wrapped = detect_form(line) == "wrapped"
        assert to_prefixed(flat, wrapped=wrapped) == line, where
        assert to_scene_params(to_prefixed(flat, wrapped=wrapped)) == flat, where
        count += 1
    assert count == 585


def test_disabled_overrides_are_kept_not_applied(shared: Path):
    line = json.loads((shared / "refs" / "refs.jsonl").read_text().splitlines()[0])
    flat = to_scene_params(line)
    layer = flat["layers"][0]
    assert line["Groups.g0.g0-alphaFactor"] == {"disabled": True, "value": 0.65}
    assert "alphaFactor" not in layer and layer["disabled"]["alphaFactor"] == 0.65
    assert flat["color"] == "#f5f3e7" and "_wrappers" not in flat  # uniform Leva dump: no form record


def test_mixed_refs_line_records_its_wrappers(shared: Path):
    line = json.loads((shared / "refs" / "refs.jsonl").read_text().splitlines()[65])
    assert detect_form(line) == "prefixed" and any(is_wrapper(v) for v in line.values())
    flat = to_scene_params(line)
    assert flat["_wrappers"]["Element.geoWidth"] is False
    assert flat["layers"][1]["disabled"] == {"rotationFactor": 0.285, "geoWidth": 0.041}
    assert to_prefixed(flat) == line


def test_golden_flat_round_trips(shared: Path):
    for i in range(24):
        flat = json.loads((shared / "golden" / f"{i:03d}.json").read_text())
        for wrapped in (False, True):
            assert to_scene_params(to_prefixed(flat, wrapped=wrapped)) == flat


# ---------------------------------------------------------------- forms, aliases, defaults, errors


@pytest.mark.parametrize(
    ("params", "form"),
    [
        ({}, "wrapped"),
        ({"Scene.scale": {"value": 1}, "x": {"value": 2, "disabled": True}}, "wrapped"),
        ({"Element.geometry": "ring"}, "prefixed"),
        ({"Scalars.repetitions": {"value": 3}, "Scene.scale": 1}, "prefixed"),
        ({"Scene.scale": 1}, "flat"),  # the original reads this as flat and ignores the key
        ({"geometry": "ring", "layers": []}, "flat"),
        ({"a": {"disabled": False}}, "flat"),
    ],
)
def test_detect_form(params, form):
    assert detect_form(params) == form


def test_aliases_are_lifted_only_without_the_object():
    assert to_prefixed({"noiseEnabled": True, "crtMask": "vga"}) == {"Noise.enabled": True, "CRT.mask": "vga"}
    assert to_prefixed({"noise": {"size": 0.2}, "noiseSize": 0.5}) == {"Noise.size": 0.2}


def test_fill_defaults_uses_the_spec_defaults():
    prefixed = to_prefixed({"geometry": "u", "layers": [{"rotation": 1}]}, fill_defaults=True)
    assert prefixed["Element.geometry"] == "u"
    assert prefixed["Element.color"] == "#efeddb" and prefixed["Scalars.repetitions"] == 75
    assert prefixed["Groups.g0.g0-position"] == {"x": -0.003, "y": -0.462}
    assert prefixed["Groups.g0.g0-rotation"] == 1
    flat = to_scene_params({"Element.geometry": "u"}, fill_defaults=True)
    assert flat["origin"] == "top-center" and flat["crt"]["mask"] == "grille" and flat["layers"] == []
    assert to_scene_params({"Element.geometry": "u"}) == {"geometry": "u", "layers": []}


def test_key_order_is_canonical():
    prefixed = to_prefixed(
        {"scale": 1, "geometry": "ring", "layers": [{"scaleFactor": 1, "position": {"x": 0, "y": 0}}]}
    )
    assert list(prefixed) == [
        "Element.geometry",
        "Scene.scale",
        "Groups.g0.g0-position",
        "Groups.g0.g0-scaleFactor",
    ]


@pytest.mark.parametrize(
    ("call", "key"),
    [
        (lambda: to_scene_params({"Element.geometry": "ring", "Test.bigNumber": 1}), "Test.bigNumber"),
        (lambda: to_scene_params({"Groups.g0.g0-scale2": {"x": 1, "y": 2}}), "Groups.g0.g0-scale2"),
        (lambda: to_scene_params({"Groups.g1.g1-rotation": 0}), "Groups"),
        (lambda: to_prefixed({"repetitons": 5}), "repetitons"),
        (lambda: to_prefixed({"layers": {"position": 0}}), "layers"),
        (lambda: to_prefixed({"layers": [{"alpha": 1}]}), "layers[0].alpha"),
        (
            lambda: to_prefixed({"layers": [{"color": "#fff", "disabled": {"color": "#000"}}]}),
            "layers[0].disabled.color",
        ),
        (lambda: to_prefixed({"noise": {"grain": 1}}), "noise.grain"),
        (lambda: to_prefixed({"layers": [{"rotation": 0}, {}]}), "layers[1]"),
    ],
)
def test_structural_errors_name_the_key(call, key):
    with pytest.raises(ParamsError) as err:
        call()
    assert err.value.key == key
    assert key in str(err.value)
