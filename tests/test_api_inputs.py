"""Request reading and image encoding of the API, without a server: the size rule, JSON errors, PNG bytes."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from app.api.errors import ApiError, echo, jsonable
from app.api.imaging import encode, encode_jpeg, encode_png
from app.api.inputs import Output, checked_cstring, output_for, parse_params
from core.params import encode as encode_cstring


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, Output(1024, 1024, "png")),
        ({"size": ""}, Output(1024, 1024, "png")),
        ({"size": "0"}, Output(1024, 1024, "png")),
        ({"size": "1"}, Output(1, 1, "jpeg")),
        ({"size": "1023"}, Output(1023, 1023, "jpeg")),
        ({"size": "1024"}, Output(1024, 1024, "png")),
        ({"size": "4096"}, Output(1024, 1024, "png")),
        ({"size": " 256 "}, Output(256, 256, "jpeg")),
        ({"width": "1652", "height": "919"}, Output(1652, 919, "png")),
        ({"width": "1", "height": "4096"}, Output(1, 4096, "png")),
    ],
)
def test_the_size_rule(query: dict[str, str], expected: Output) -> None:
    assert output_for(query) == expected


@pytest.mark.parametrize(
    "query", [{"size": "4097"}, {"size": "-5"}, {"size": "2e3"}, {"size": "1_000"}, {"width": "9"}]
)
def test_bad_sizes_raise_422(query: dict[str, str]) -> None:
    with pytest.raises(ApiError) as info:
        output_for(query)
    assert info.value.status == 422


def test_parse_params_reads_bytes_and_text() -> None:
    assert parse_params(b'{"repetitions": 12}', "body") == {"repetitions": 12}
    assert parse_params('{"Element.geometry": "ring"}', "?params=") == {"Element.geometry": "ring"}


@pytest.mark.parametrize(
    ("raw", "status"), [(b"  ", 400), (b"{", 400), (b'{"a": Infinity}', 400), (b"null", 422), (b'"x"', 422)]
)
def test_parse_params_errors(raw: bytes, status: int) -> None:
    with pytest.raises(ApiError) as info:
        parse_params(raw, "body")
    assert info.value.status == status
    assert "body" in info.value.message


def test_deep_nesting_is_a_400_not_a_crash() -> None:
    with pytest.raises(ApiError) as info:
        parse_params(b"[" * 100_000 + b"]" * 100_000, "body")
    assert info.value.status == 400


def test_checked_cstring_is_the_codec_and_names_bad_keys() -> None:
    params = {"geometry": "wave", "repetitions": 40}
    assert checked_cstring(params) == encode_cstring(params)
    with pytest.raises(ApiError) as info:
        checked_cstring({"geometry": "wave", "startAngle": "up"})
    assert (info.value.status, info.value.detail["key"]) == (422, "startAngle")


def test_error_bodies_survive_strict_json() -> None:
    err = ApiError(422, "bad", value=float("nan"), allowed=("a", "b"), key="k")
    assert err.body() == {"error": "bad", "value": "nan", "allowed": ["a", "b"], "key": "k"}
    assert jsonable({"x": (1, 2)}) == {"x": [1, 2]}


def test_a_huge_offending_value_is_echoed_in_short() -> None:
    """A 300-KB bad value comes back as its first characters and its length, not as 300 KB."""
    with pytest.raises(ApiError) as info:
        checked_cstring({"geometry": "y" * 300_000})
    body = info.value.body()
    assert len(json.dumps(body)) < 1000 and body["key"] == "geometry"
    assert body["value"].startswith('"yyy') and "300002 characters in all" in body["value"]
    assert "ring" in body["allowed"]  # what is allowed is never cut
    assert echo([1, 2]) == [1, 2] and echo(float("inf")) == "inf"


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (64, 65), (919, 1652)])
def test_png_round_trips_exactly(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    rgb = rng.integers(0, 256, size=(*shape, 3), dtype=np.uint8)
    rgb[: shape[0] // 2] = 0  # mostly-black rows, as renders are
    img = Image.open(io.BytesIO(encode_png(rgb)))
    assert (img.format, img.mode, img.size) == ("PNG", "RGB", (shape[1], shape[0]))
    assert np.array_equal(np.asarray(img), rgb)


def test_jpeg_is_quality_80_sized_and_close() -> None:
    rgb = np.zeros((40, 60, 3), dtype=np.uint8)
    rgb[10:30, 20:40] = (200, 120, 40)
    data = encode_jpeg(rgb)
    assert data == encode(rgb, "jpeg")
    img = Image.open(io.BytesIO(data))
    assert (img.format, img.size) == ("JPEG", (60, 40))
    assert np.abs(np.asarray(img).astype(int) - rgb).mean() < 4
    assert len(encode_jpeg(rgb, quality=95)) > len(data)


def test_png_refuses_other_arrays_and_unknown_formats() -> None:
    with pytest.raises(ValueError):
        encode_png(np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(ValueError):
        encode_png(np.zeros((4, 4, 3), dtype=np.float32))
    with pytest.raises(ValueError):
        encode(np.zeros((4, 4, 3), dtype=np.uint8), "webp")
