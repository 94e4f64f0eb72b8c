"""core.imageio: every input mode becomes the right (H, W, 3) float32 pixels, and bad input says why."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.imageio import (
    EightBitWarning,
    ImageInputError,
    crop_box_for_aspect,
    fit_to_aspect,
    load_image,
    resize,
    save_png,
    to_rgb_float,
    to_uint8,
)


def _png_bytes(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


def _check_float_rgb(out: np.ndarray, height: int, width: int) -> None:
    assert out.shape == (height, width, 3)
    assert out.dtype == np.float32
    assert out.flags.c_contiguous
    assert out.min() >= 0.0 and out.max() <= 1.0


# -- modes and dtypes ----------------------------------------------------------------------------------------


def test_rgb_uint8_array_scales_by_255() -> None:
    arr = np.zeros((10, 12, 3), np.uint8)
    arr[2, 3] = (255, 128, 1)
    out = to_rgb_float(arr)
    _check_float_rgb(out, 10, 12)
    np.testing.assert_allclose(out[2, 3], [1.0, 128 / 255, 1 / 255], rtol=1e-6)
    assert out[0, 0].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("as_pil", [False, True])
def test_rgba_is_composited_over_black(as_pil: bool) -> None:
    arr = np.zeros((8, 8, 4), np.uint8)
    arr[..., :3] = (200, 100, 50)
    arr[..., 3] = 128
    arr[0, 0, 3] = 0  # fully transparent: black, whatever its colour
    arr[0, 1, 3] = 255  # opaque: the colour itself
    source = Image.fromarray(arr) if as_pil else arr
    out = to_rgb_float(source)
    _check_float_rgb(out, 8, 8)
    np.testing.assert_allclose(out[4, 4], np.array([200, 100, 50]) / 255 * (128 / 255), rtol=1e-6)
    assert out[0, 0].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(out[0, 1], np.array([200, 100, 50]) / 255, rtol=1e-6)


def test_la_is_grey_times_alpha() -> None:
    img = Image.new("LA", (9, 8), (200, 51))
    out = to_rgb_float(img)
    _check_float_rgb(out, 8, 9)
    np.testing.assert_allclose(out[3, 3], [200 / 255 * 0.2] * 3, rtol=1e-6)


def test_grayscale_is_replicated_to_three_channels() -> None:
    gray = (np.arange(64, dtype=np.uint8).reshape(8, 8)) * 4
    for source in (gray, gray[..., None], Image.fromarray(gray)):
        out = to_rgb_float(source)
        _check_float_rgb(out, 8, 8)
        np.testing.assert_allclose(out[..., 0], gray / 255, rtol=1e-6)
        assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])


def test_palette_image_uses_palette_colours() -> None:
    img = Image.new("P", (8, 8), 0)
    img.putpalette([0, 0, 0, 255, 0, 0, 10, 20, 30] + [0] * (256 * 3 - 9))
    img.putpixel((1, 2), 1)
    img.putpixel((3, 4), 2)
    out = to_rgb_float(Image.open(io.BytesIO(_png_bytes(img))))
    _check_float_rgb(out, 8, 8)
    np.testing.assert_allclose(out[2, 1], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(out[4, 3], np.array([10, 20, 30]) / 255, rtol=1e-6)
    assert out[0, 0].tolist() == [0.0, 0.0, 0.0]


def test_palette_transparency_becomes_black() -> None:
    img = Image.new("P", (8, 8), 1)
    img.putpalette([255, 255, 255, 0, 255, 0] + [0] * (256 * 3 - 6))
    img.putpixel((0, 0), 0)
    img.info["transparency"] = 1  # index 1 (green) is transparent
    out = to_rgb_float(Image.open(io.BytesIO(_png_bytes(img))))
    assert out[0, 0].tolist() == [1.0, 1.0, 1.0]
    assert out[5, 5].tolist() == [0.0, 0.0, 0.0]


def test_one_bit_image_is_zero_or_one() -> None:
    img = Image.new("1", (8, 8), 0)
    img.putpixel((2, 2), 1)
    out = to_rgb_float(Image.open(io.BytesIO(_png_bytes(img))))
    assert out[2, 2].tolist() == [1.0, 1.0, 1.0]
    assert out[0, 0].tolist() == [0.0, 0.0, 0.0]
    assert set(np.unique(out).tolist()) == {0.0, 1.0}


def test_sixteen_bit_png_keeps_its_precision(tmp_path: Path) -> None:
    values = np.full((8, 8), 25700, np.uint16)  # 100/255 of full scale
    values[0, 0] = 65535
    values[0, 1] = 25701  # differs from 25700 only below 8-bit precision
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode.startswith("I")
    out = load_image(path)
    _check_float_rgb(out, 8, 8)
    assert out[0, 0].tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_allclose(out[1, 1, 0], 25700 / 65535, rtol=1e-6)
    assert out[0, 1, 0] > out[1, 1, 0]
    np.testing.assert_allclose(to_rgb_float(values), out)


def test_eight_bit_values_in_wider_integers_are_read_as_eight_bit(tmp_path: Path) -> None:
    """`np.array` of Python ints is int64 and 8-bit data often sits in uint16: read as 16-bit they were at
    most 0.4 % of white, a black target matched without a word."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (12, 16, 3)).astype(np.uint8)
    expected = to_rgb_float(pixels)
    for wide in (pixels.astype(np.uint16), pixels.astype(np.int64), pixels.astype(np.int32)):
        with pytest.warns(EightBitWarning, match="read as 8-bit"):
            np.testing.assert_array_equal(to_rgb_float(wide), expected)
    path = tmp_path / "eight-in-sixteen.png"
    Image.fromarray(pixels[..., 0].astype(np.uint16)).save(path)  # a 16-bit PNG holding 8-bit values
    with pytest.warns(EightBitWarning):
        np.testing.assert_array_equal(load_image(path)[..., 0], expected[..., 0])


def test_integers_beyond_sixteen_bits_or_negative_are_refused() -> None:
    with pytest.raises(ImageInputError, match=r"integer values span \[-1, 200\]"):
        to_rgb_float(np.array([[-1, 200]] * 8 * 4).reshape(8, 8))
    with pytest.raises(ImageInputError, match="0-65535"):
        to_rgb_float(np.full((8, 8), 70_000, np.int64))
    black = to_rgb_float(np.zeros((8, 8), np.uint16))  # all zero: black either way, no warning
    assert black.max() == 0.0


def test_float_arrays_pass_through_as_float32() -> None:
    arr = np.linspace(0, 1, 8 * 8 * 3).reshape(8, 8, 3)
    out = to_rgb_float(arr)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, arr, atol=1e-7)
    assert to_rgb_float(arr.astype(np.float16)).dtype == np.float32


def test_bool_array_is_zero_or_one() -> None:
    arr = np.zeros((8, 8), bool)
    arr[1, 1] = True
    out = to_rgb_float(arr)
    assert out[1, 1].tolist() == [1.0, 1.0, 1.0] and out.sum() == 3.0


def test_path_str_and_bytes_give_the_same_pixels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (16, 20, 3), dtype=np.uint8)
    path = tmp_path / "x.png"
    Image.fromarray(arr).save(path)
    expected = arr.astype(np.float32) / 255
    for source in (path, str(path), path.read_bytes(), bytearray(path.read_bytes()), Image.open(path)):
        np.testing.assert_array_equal(to_rgb_float(source), expected)


# -- errors that name the problem ----------------------------------------------------------------------------


def _error(source: object, **kwargs: int) -> str:
    with pytest.raises(ImageInputError) as info:
        to_rgb_float(source, **kwargs)
    assert isinstance(info.value, ValueError)
    return str(info.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    message = _error(tmp_path / "nope.png")
    assert "nope.png" in message and "no such file" in message


def test_directory_is_refused(tmp_path: Path) -> None:
    assert "directory" in _error(tmp_path)


def test_text_file_says_what_was_found(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("hello, this is not a picture")
    message = _error(path)
    assert "notes.png" in message and "not an image" in message and "hello" in message


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('<?xml version="1.0"?>\n<note>hi</note>', "an XML file that is not an SVG"),
    ],
    ids=["xml"],
)
def test_other_exports_ask_for_a_png(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "design.svg"
    path.write_text(content)
    message = _error(path)
    assert "design.svg" in message and says in message and "export the design as PNG" in message


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    """A photo stored sideways with an EXIF orientation tag is read the way viewers show it."""
    pixels = np.zeros((20, 30, 3), np.uint8)
    pixels[:, :10] = 255  # a white band at the left of the stored pixels
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    path = tmp_path / "photo.png"
    image.save(path, exif=exif)
    seen = to_rgb_float(path)
    assert seen.shape == (30, 20, 3)
    assert seen[:10].mean() > 0.9 and seen[12:].max() == 0.0  # the band is now at the top


def test_empty_file_and_bad_bytes(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    assert "empty file" in _error(path)
    assert "<bytes>" in _error(b"GIF-ish garbage")


def test_truncated_png_is_reported_not_crashed(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    data = _png_bytes(Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)))
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    message = _error(path)
    assert "cut.png" in message and "could not be decoded" in message


def test_too_small_and_too_large_images() -> None:
    message = _error(np.zeros((7, 64, 3), np.uint8))
    assert "64x7" in message and "at least 8 px" in message
    big = _png_bytes(Image.new("1", (10_001, 8)))
    message = _error(big)
    assert "10001x8" in message and "at most 10000 px" in message and "decompression" in message


def test_wrong_shapes_and_dtypes_are_named() -> None:
    assert "channel-first" in _error(np.zeros((3, 32, 32), np.uint8))
    assert "(16, 16, 5)" in _error(np.zeros((16, 16, 5), np.uint8))
    assert "(16,)" in _error(np.zeros(16, np.uint8))
    assert "complex128" in _error(np.zeros((16, 16, 3), np.complex128))
    assert "[-5, -5]" in _error(np.full((16, 16, 3), -5, np.int64))
    message = _error(np.full((16, 16, 3), 200.0))
    assert "[0, 1]" in message and "255" in message
    nan = np.zeros((16, 16, 3))
    nan[0, 0, 0] = np.nan
    assert "NaN" in _error(nan)
    assert "list" in _error([[0, 1], [1, 0]])


def test_load_image_wants_a_path() -> None:
    with pytest.raises(ImageInputError, match="path"):
        load_image(np.zeros((8, 8, 3)))  # type: ignore[arg-type]


# -- uint8 and saving ----------------------------------------------------------------------------------------


def test_to_uint8_rounds_and_allows_thumbnails() -> None:
    out = to_uint8(np.array([[[0.0, 0.5, 1.0]]]))
    assert out.dtype == np.uint8 and out.tolist() == [[[0, 128, 255]]]
    arr = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    assert np.array_equal(to_uint8(arr), arr)


def test_save_png_round_trips_and_leaves_no_temp_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    arr = rng.random((20, 30, 3), dtype=np.float32)
    path = save_png(arr, tmp_path / "sub" / "out.png")
    assert path == tmp_path / "sub" / "out.png"
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.png"]
    back = Image.open(path)
    assert back.mode == "RGB" and back.size == (30, 20)
    np.testing.assert_array_equal(np.asarray(back), to_uint8(arr))


def test_save_png_failure_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.png"
    save_png(np.zeros((8, 8, 3)), path)
    before = path.read_bytes()

    def broken_save(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_png(np.ones((8, 8, 3)), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


# -- geometry ------------------------------------------------------------------------------------------------


def test_crop_box_is_centred() -> None:
    assert crop_box_for_aspect(512, 512, 1652 / 919) == (0, 113, 512, 398)
    assert crop_box_for_aspect(1652, 919, 1.0) == (366, 0, 1285, 919)
    assert crop_box_for_aspect(100, 50, 2.0) == (0, 0, 100, 50)
    with pytest.raises(ValueError, match="aspect"):
        crop_box_for_aspect(10, 10, 0.0)


def test_fit_to_aspect_keeps_the_centre_rows() -> None:
    rows = np.repeat(np.arange(512, dtype=np.float32)[:, None], 512, axis=1)
    out = fit_to_aspect(rows, 1652 / 919)
    assert out.shape == (285, 512)
    assert out[0, 0] == 113 and out[-1, 0] == 397
    cols = fit_to_aspect(np.zeros((100, 400, 3), np.uint8), 1.0)
    assert cols.shape == (100, 100, 3) and cols.dtype == np.uint8


def test_resize_dtypes_and_shapes() -> None:
    rng = np.random.default_rng(3)
    f = rng.random((100, 80, 3))
    out = resize(f, 40, 50)
    assert out.shape == (50, 40, 3) and out.dtype == np.float32
    u = resize((f * 255).astype(np.uint8), 40, 50)
    assert u.shape == (50, 40, 3) and u.dtype == np.uint8
    assert resize(f[..., 0], 160, 200).shape == (200, 160)
    assert resize(f, 80, 100).dtype == np.float32
    with pytest.raises(ImageInputError, match="dtype"):
        resize(np.zeros((8, 8), np.int32), 4, 4)


def test_resize_is_an_area_average_for_thin_strokes() -> None:
    """A 1-px bright line on black keeps its total light and never overshoots (no ringing)."""
    img = np.zeros((1024, 1024, 3), np.float32)
    img[:, 511] = 1.0
    img[300, :] = 1.0
    out = resize(img, 512, 512)
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_allclose(out.mean(), img.mean(), rtol=1e-5)
    np.testing.assert_allclose(out[10, 255], [0.5, 0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(resize(np.full((30, 40), 0.25), 7, 9), 0.25, atol=1e-6)


def test_save_png_has_ordinary_permissions(tmp_path) -> None:
    import os
    import stat

    from core.imageio import save_png

    path = save_png(np.zeros((8, 8, 3), np.uint8), tmp_path / "x.png")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode & 0o044  # readable by group/others under the usual umask (mkstemp alone gives 0600)


def test_a_file_of_several_frames_says_which_is_matched(tmp_path: Path) -> None:
    """An animated GIF was matched on its first frame without a word."""
    from core.imageio import frame_note

    frames = [Image.new("RGB", (32, 18), (v, v, v)) for v in (0, 200)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    frames[0].save(tmp_path / "still.png")
    assert frame_note(tmp_path / "anim.gif") == "It holds 2 frames; the first is matched."
    assert frame_note(tmp_path / "still.png") is None and frame_note(np.zeros((8, 8))) is None
    assert frame_note(tmp_path / "missing.png") is None  # the reader says what is wrong, not this
    assert to_rgb_float(tmp_path / "anim.gif").max() == 0.0  # the first frame, black


def test_a_float32_image_in_range_comes_back_as_a_copy_and_nan_is_still_seen() -> None:
    """The float path makes one copy (it made three full-size ones: a 4× Figma export's upload spent 4.3 s
    of 7.3 in them); the caller's array stays its own, and NaN or infinity are still refused."""
    image = np.linspace(0, 1, 8 * 8 * 3, dtype=np.float32).reshape(8, 8, 3)
    out = to_rgb_float(image)
    assert np.array_equal(out, image) and out is not image
    out[0, 0, 0] = 0.5
    assert image[0, 0, 0] == 0.0
    for bad in (np.nan, np.inf, -np.inf):
        spoiled = image.copy()
        spoiled[3, 3, 1] = bad
        with pytest.raises(ImageInputError, match="NaN or infinity"):
            to_rgb_float(spoiled)
