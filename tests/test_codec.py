"""The c-string codec: the original's 31 vectors, exact JS formatting, clear rejections, round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.params import CodecError, ParamsError, decode, encode, resolve, to_scene_params
from core.params.js import number_to_string, quantise, stringify


def _vectors(shared: Path) -> list[dict]:
    return json.loads((shared / "golden" / "codec-vectors.json").read_text())


def _typed(obj):
    """JSON text with types kept apart (Python's == says True == 1 and 1 == 1.0)."""
    return json.dumps(obj)


def test_all_31_vectors_encode_and_decode_exactly(shared: Path):
    vectors = _vectors(shared)
    assert len(vectors) == 31
    for v in vectors:
        assert encode(v["input"]) == v["encoded"], v["name"]
        decoded = decode(v["encoded"])
        assert _typed(decoded) == _typed(v["decoded"]), v["name"]  # key order, ints vs floats, flags
        assert encode(decoded) == v["encoded"], v["name"]  # decode → encode reproduces the string


def test_vector_paths_cover_the_three_forms(shared: Path):
    names = {v["name"]: v for v in _vectors(shared)}
    flat = names["000"]
    decoded = decode(flat["encoded"])
    # flat path: fixed key order, overrides flagged disabled:false, position/rotation/scale unflagged
    assert list(decoded)[:6] == [
        "Element.geometry", "Element.geoWidth", "Element.startAngle", "Element.color",
        "Element.gradientAngle", "Element.gradientRange",
    ]  # fmt: skip
    assert decoded["Groups.g0.g0-rotationFactor"] == {"disabled": False, "value": 0.509}
    assert decoded["Groups.g0.g0-position"] == {"value": {"x": 0.1962, "y": 0.5565}}
    assert encode({}) == "" and decode("") == {}


def test_decoded_flat_vectors_resolve_like_their_inputs(shared: Path):
    for v in _vectors(shared)[:24]:
        assert resolve(decode(v["encoded"])) == resolve(v["input"]), v["name"]
        assert "_wrappers" in to_scene_params(decode(v["encoded"]))  # flags only on overrides


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (1e-7, "1e-7"),
        (1.5e-6, "0.0000015"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (-2.5, "-2.5"),
        (0.12345, "0.12345"),
        (5e-324, "5e-324"),
    ],
)
def test_numbers_print_like_javascript(value, text):
    assert number_to_string(value) == text


def test_json_is_compact_and_ordered_like_javascript():
    assert stringify({"x": -0.0, "y": 1.0}) == '{"x":0,"y":1}'
    assert stringify([0.12345, -1.0005, 2, True, None, "é\n"]) == '[0.12345,-1.0005,2,true,null,"é\\n"]'
    assert stringify({"b": 1, "10": 2, "2": 3}) == '{"2":3,"10":2,"b":1}'  # integer-like keys first


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"Scene.scale": {"value": None}}, "Scene.scale"),  # null: the original writes no type byte
        ({"Element.geometry": "ring", "Scene.debug": None}, "Scene.debug"),
        ({"K" * 256: {"value": 1}}, "K" * 256),  # over the one length byte
        ({"é" * 128: {"value": 1}}, "é" * 128),  # 256 UTF-8 bytes
        ({"repetitions": 2e6}, "Scalars.repetitions"),  # decodes as 0 in the original
        ({"Test.big": {"value": 1073742}}, "Test.big"),  # |v|·1000 ≥ 2**30
        ({"Test.big": {"value": -1073742}}, "Test.big"),
        ({"xStep": float("nan")}, "Spatial.xStep"),  # NaN encodes as 0 in the original
        ({"xStep": float("inf")}, "Spatial.xStep"),
        ({"position": {"x": float("nan"), "y": 0}}, "Scene.position"),  # JSON.stringify writes null
        ({"12": {"value": 1}}, "12"),  # JavaScript would move it to the front
        ({"Test.x": {"value": {1, 2}}}, "Test.x"),
    ],
)
def test_encode_rejects_what_the_original_corrupts(params, key):
    with pytest.raises(ParamsError) as err:
        encode(params)
    assert err.value.key == key
    assert key[:30] in str(err.value)


def test_largest_codec_numbers_still_encode():
    assert decode(encode({"Test.v": {"value": 1073741.823}}))["Test.v"]["value"] == 1073741.823
    assert decode(encode({"Test.v": {"value": -1073741.823}}))["Test.v"]["value"] == -1073741.823


@pytest.mark.parametrize(
    "text",
    [
        "A",  # a dangling character
        "EEVsZW1lbnQ*",  # outside the alphabet
        "EEVsZW1lbnQuZ2VvbWV0cnk",  # key cut off before its type byte
        "EEVsZW1lbnQuZ2VvbWV0cnkCA2Jh",  # string cut off
        "AUEH",  # type byte 7
        "AUEDAf8",  # JSON payload of one byte 0xff: not UTF-8
    ],
)
def test_decode_rejects_malformed_strings(text):
    with pytest.raises(CodecError):
        decode(text)


# ---------------------------------------------------------------- round trips of arbitrary entries

keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40).filter(
    lambda k: not (k.isdigit() and k.isascii())
)
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=8,
)
values = st.one_of(
    st.booleans(),
    st.integers(-1_000_000, 1_000_000),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.text(max_size=30),
    st.lists(json_values, max_size=3),
    st.dictionaries(keys, json_values, max_size=3),
)
entries = st.dictionaries(
    keys,
    st.fixed_dictionaries({"value": values}, optional={"disabled": st.booleans()}),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(entries)
def test_wrapped_maps_round_trip_with_quantised_numbers(params):
    text = encode(params)
    decoded = decode(text)
    assert list(decoded) == list(params)
    for key, entry in params.items():
        value = entry["value"]
        got = decoded[key]
        assert got.get("disabled") == entry.get("disabled")
        if isinstance(value, bool) or not isinstance(value, int | float):
            if isinstance(value, dict | list):
                assert json.loads(stringify(value)) == got["value"]
            else:
                assert got["value"] == value and type(got["value"]) is type(value)
        else:
            assert got["value"] == quantise(value)
    assert encode(decoded) == text
