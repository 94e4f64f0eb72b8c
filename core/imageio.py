"""Image input and output: every image entering the library becomes one thing, an (H, W, 3) float32 RGB
array in [0, 1], so metrics, models and optimisers never branch on file formats, modes or dtypes.

Transparency is composited over BLACK because the renderer's background is black: a transparent pixel of a
design is a pixel where no light falls.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.atomic import atomic_file
from core.vector import SVG_HEAD, SvgError, is_pdf, is_svg, rasterize_pdf, rasterize_svg

MIN_SIDE = 8
"""Smallest accepted side in pixels: below this SSIM's 7-px window and the CNNs have nothing to see."""

MAX_SIDE = 10_000
"""Largest accepted side in pixels; checked from the header before decoding (decompression-bomb guard)."""

FLOAT_TOLERANCE = 1e-3
"""Float inputs may stray this far outside [0, 1] (float16 rounding); they are clipped, beyond is an error."""

_CHANNEL_COUNTS = (1, 2, 3, 4)


class ImageInputError(ValueError):
    """An input is not an image this library can use; the message names the source and the problem."""


def to_rgb_float(image: Any, *, min_side: int = MIN_SIDE, max_side: int = MAX_SIDE) -> np.ndarray:
    """Convert any common image input to an (H, W, 3) float32 array in [0, 1].

    Accepts a path (str or os.PathLike), encoded file bytes, a PIL image, or a numpy array. An SVG file
    or a PDF's first page is drawn on black at its own size, at least 1024 px wide (core.vector).

    PIL modes: RGB, RGBA and LA (composited over black), L, P (palette, with or without transparency),
    1 (bilevel), I;16 (16-bit PNG) and I (assumed 16-bit range), scaled as integer arrays are (below),
    F (assumed [0, 1]); other modes go through Pillow's own RGB conversion.

    Arrays: (H, W), (H, W, 1), (H, W, 2) grey+alpha, (H, W, 3) RGB, (H, W, 4) RGBA; dtype uint8
    (scaled by 1/255), uint16 (by 1/65535), bool, or float in [0, 1]. Alpha is straight (not
    premultiplied) and composited over black: out = rgb * alpha.

    Raises ImageInputError for unreadable files, non-images, unsupported shapes or dtypes, and sides
    outside [min_side, max_side] pixels.
    """
    if isinstance(image, np.ndarray):
        rgb = _array_to_rgb_float(image, "array")
        _check_size(rgb.shape[1], rgb.shape[0], "array", min_side, max_side)
        return rgb
    if isinstance(image, Image.Image):
        _check_size(image.width, image.height, "PIL image", min_side, max_side)
        return _pil_to_rgb_float(image, "PIL image")
    if isinstance(image, bytes | bytearray | memoryview):
        return _decode(io.BytesIO(bytes(image)), "<bytes>", min_side, max_side)
    if isinstance(image, str | os.PathLike):
        path = Path(image)
        if not path.exists():
            raise ImageInputError(f"{path}: no such file")
        if path.is_dir():
            raise ImageInputError(f"{path}: is a directory, not an image file")
        return _decode(path, str(path), min_side, max_side)
    raise ImageInputError(
        f"cannot read an image from {type(image).__name__}; "
        "expected a path, bytes, a PIL image or a numpy array"
    )


def frame_note(path: Any) -> str | None:
    """For an image file of several frames (an animated GIF, PNG or WebP, a multi-page TIFF), which one is
    used: the first, as `to_rgb_float` reads it (an animated design used to be matched without a word);
    None for one frame, anything not a path, or a file Pillow cannot open."""
    if not isinstance(path, str | os.PathLike):
        return None
    try:
        with Image.open(path) as img:
            frames = int(getattr(img, "n_frames", 1))
    except (OSError, ValueError, UnidentifiedImageError):
        return None
    return f"It holds {frames} frames; the first is matched." if frames > 1 else None


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as an (H, W, 3) float32 RGB array in [0, 1] (see `to_rgb_float`)."""
    if not isinstance(path, str | os.PathLike):
        raise ImageInputError(f"load_image expects a file path, got {type(path).__name__}")
    return to_rgb_float(path)


def to_uint8(image: Any) -> np.ndarray:
    """Convert any input `to_rgb_float` accepts to an (H, W, 3) uint8 array (0-255, rounded to nearest).

    Unlike `to_rgb_float` no minimum size is enforced, so small thumbnails can be written.
    """
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
        _check_size(image.shape[1], image.shape[0], "array", 1, MAX_SIDE)
        return np.ascontiguousarray(image)
    rgb = to_rgb_float(image, min_side=1)
    return np.rint(rgb * 255.0).astype(np.uint8)


def save_png(image: Any, path: str | os.PathLike[str]) -> Path:
    """Write `image` (anything `to_uint8` accepts) as an 8-bit RGB PNG, atomically.

    The PNG is written to a temporary file in the destination folder and moved into place with
    os.replace, so readers (the UI, a watcher) never see a half-written file. Missing parent folders are
    created. Returns the destination path.
    """
    pixels = to_uint8(image)
    with atomic_file(path) as handle:
        Image.fromarray(pixels).save(handle, format="PNG")
    return Path(path)


def crop_box_for_aspect(width: int, height: int, aspect: float) -> tuple[int, int, int, int]:
    """The centred (left, top, right, bottom) box of a width x height image with width/height = `aspect`.

    Only one axis is cut; the kept side is rounded to the nearest pixel and is at least 1 px.
    """
    if not np.isfinite(aspect) or aspect <= 0:
        raise ValueError(f"aspect must be a positive finite width/height ratio, got {aspect!r}")
    if width / height > aspect:
        new_width = min(width, max(1, round(height * aspect)))
        left = (width - new_width) // 2
        return left, 0, left + new_width, height
    new_height = min(height, max(1, round(width / aspect)))
    top = (height - new_height) // 2
    return 0, top, width, top + new_height


def fit_to_aspect(image: np.ndarray, aspect: float) -> np.ndarray:
    """Centre-crop an (H, W) or (H, W, C) array to the width/height ratio `aspect`.

    Returns a view (no copy, dtype unchanged). A centre crop is the right map between renders at
    different aspects because the renderer's camera always shows the same width of the world around the
    same centre.
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ImageInputError(f"fit_to_aspect expects an (H, W) or (H, W, C) array, got shape {image.shape}")
    left, top, right, bottom = crop_box_for_aspect(image.shape[1], image.shape[0], aspect)
    return image[top:bottom, left:right]


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an (H, W) or (H, W, C) array to width x height px: float in, float32 out; uint8 in, uint8 out.

    Filter: BOX (an exact area average) when no axis grows, BILINEAR otherwise. BOX was chosen over
    LANCZOS(reducing_gap) because these images are thin bright strokes on black: LANCZOS's negative lobes
    ring around such strokes and overshoot [0, 1], which biases SSIM and correlation, while an area average
    keeps every pixel's light (mean brightness is preserved) and cannot leave the input range. Pillow
    scales the filter support when shrinking, so BILINEAR also anti-aliases an axis that shrinks.
    Channels are resampled independently (float channels in Pillow's 32-bit "F" mode).
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ImageInputError(f"resize expects an (H, W) or (H, W, C) array, got shape {image.shape}")
    if image.dtype == np.uint8:
        out_dtype: type[np.generic] = np.uint8
    elif np.issubdtype(image.dtype, np.floating):
        out_dtype = np.float32
    else:
        raise ImageInputError(f"resize expects a float or uint8 array, got dtype {image.dtype}")
    width, height = int(width), int(height)
    if width < 1 or height < 1:
        raise ValueError(f"target size must be at least 1x1 px, got {width}x{height}")
    if image.shape[1] == width and image.shape[0] == height:
        return image.astype(out_dtype, copy=False)

    grows = width > image.shape[1] or height > image.shape[0]
    resample = Image.Resampling.BILINEAR if grows else Image.Resampling.BOX
    planes = image[..., None] if image.ndim == 2 else image
    resized = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(planes[..., c], dtype=out_dtype)).resize(
                (width, height), resample
            )
        )
        for c in range(planes.shape[2])
    ]
    out = np.stack(resized, axis=2).astype(out_dtype, copy=False)
    return out[..., 0] if image.ndim == 2 else out


# -- decoding -----------------------------------------------------------------------------------------------


MAX_VECTOR_BYTES = 64 * 2**20
"""Largest SVG or PDF file read (a Figma frame export is kilobytes to a few megabytes)."""


def _decode(source: io.BytesIO | Path, label: str, min_side: int, max_side: int) -> np.ndarray:
    """Open an encoded image, check its header size before decoding any pixels, and convert it. An SVG or
    a PDF is drawn by core.vector."""
    try:
        size, head = _size_and_head(source, SVG_HEAD)
    except OSError:
        size, head = 0, b""  # Pillow then says what is wrong
    if is_svg(head) or is_pdf(head):
        return _decode_vector(source, size, head, label, min_side, max_side)
    with warnings.catch_warnings():
        # Our own MAX_SIDE check runs before decoding; Pillow's pixel-count warning would only be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(source) as img:
                _check_size(img.width, img.height, label, min_side, max_side)
                try:
                    img.load()
                except (OSError, ValueError, SyntaxError) as exc:
                    raise ImageInputError(
                        f"{label}: {img.format} image could not be decoded ({exc})"
                    ) from exc
                return _pil_to_rgb_float(_upright(img), label)
        except UnidentifiedImageError as exc:
            raise ImageInputError(f"{label}: not an image Pillow can read (found {_sniff(source)})") from exc
        except Image.DecompressionBombError as exc:
            raise ImageInputError(f"{label}: refused, image too large to decode safely ({exc})") from exc
        except OSError as exc:
            raise ImageInputError(f"{label}: could not be read ({exc})") from exc


def _size_and_head(source: io.BytesIO | Path, n: int) -> tuple[int, bytes]:
    """The length of a file or buffer and its first n bytes (OSError when the file cannot be read)."""
    if isinstance(source, Path):
        with source.open("rb") as handle:
            return source.stat().st_size, handle.read(n)
    return len(source.getbuffer()), bytes(source.getbuffer()[:n])


def _decode_vector(
    source: io.BytesIO | Path, size: int, head: bytes, label: str, min_side: int, max_side: int
) -> np.ndarray:
    kind, rasterize = ("SVG", rasterize_svg) if is_svg(head) else ("PDF", rasterize_pdf)
    if size > MAX_VECTOR_BYTES:
        raise ImageInputError(f"{label}: {kind} of {size} bytes; at most {MAX_VECTOR_BYTES} are read")
    try:
        data = source.read_bytes() if isinstance(source, Path) else source.getvalue()
        rgb = rasterize(data, max_side=max_side)
    except OSError as exc:
        raise ImageInputError(f"{label}: could not be read ({exc})") from exc
    except SvgError as exc:
        raise ImageInputError(f"{label}: {exc}") from exc
    _check_size(rgb.shape[1], rgb.shape[0], label, min_side, max_side)
    return rgb


def _upright(img: Image.Image) -> Image.Image:
    """The image as it is meant to be seen: a phone photo or screenshot may store its pixels sideways with
    an EXIF orientation tag, which every viewer (and the designer's eye) applies. A broken tag is ignored."""
    try:
        return ImageOps.exif_transpose(img)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):
        return img


_NOT_RASTER = {
    b"<?xml": "an XML file that is not an SVG: export the design as PNG",
}


def _sniff(source: io.BytesIO | Path) -> str:
    """Describe what a non-image file holds, for error messages: its length and first bytes."""
    try:
        size, head = _size_and_head(source, 16)
    except OSError as exc:
        return f"unreadable content: {exc}"
    if size == 0:
        return "an empty file"
    for magic, words in _NOT_RASTER.items():
        if head.lstrip().startswith(magic):
            return words
    return f"{size} bytes starting {head!r}"


def _pil_to_rgb_float(img: Image.Image, label: str) -> np.ndarray:
    """Convert a PIL image of any mode through a numpy array (so alpha and scaling live in one place)."""
    mode = img.mode
    if mode in ("RGB", "RGBA", "L", "LA", "F") or mode.startswith("I;16"):
        array = np.asarray(img)
    elif mode == "I":
        # 32-bit integer images come from 16-bit PNGs in older Pillows: take the 16-bit range.
        array = np.clip(np.asarray(img), 0, 65535).astype(np.uint16)
    elif mode == "1":
        array = np.asarray(img.convert("L"))
    elif mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in img.info
        array = np.asarray(img.convert("RGBA" if has_alpha else "RGB"))
    else:
        target = "RGBA" if "A" in img.getbands() or "a" in img.getbands() else "RGB"
        try:
            array = np.asarray(img.convert(target))
        except ValueError as exc:
            raise ImageInputError(f"{label}: unsupported image mode {mode!r} ({exc})") from exc
    return _array_to_rgb_float(array, f"{label} (mode {mode})")


def _array_to_rgb_float(array: np.ndarray, label: str) -> np.ndarray:
    """Validate an array's shape and dtype, scale it to [0, 1] and composite any alpha over black."""
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in _CHANNEL_COUNTS:
        hint = ""
        if array.ndim == 3 and array.shape[0] in _CHANNEL_COUNTS:
            hint = " (it looks channel-first; transpose it to (H, W, C))"
        raise ImageInputError(
            f"{label}: shape {array.shape} is not an image; expected (H, W) or (H, W, C) with C in 1-4{hint}"
        )
    values = _scaled_float(array, label)
    if values.shape[2] in (2, 4):  # grey+alpha or RGBA: straight alpha over a black background
        values = values[..., :-1] * values[..., -1:]
    if values.shape[2] == 1:
        values = np.repeat(values, 3, axis=2)
    return np.ascontiguousarray(values, dtype=np.float32)


def _scaled_float(array: np.ndarray, label: str) -> np.ndarray:
    """The array as float32 in [0, 1], scaled by its dtype's full range."""
    kind, size = array.dtype.kind, array.dtype.itemsize
    if kind == "u" and size == 1:
        return array.astype(np.float32) / np.float32(255.0)
    if kind in "ui":  # uint16 (either byte order: Pillow's I;16B arrives big-endian), or any other integer
        return array.astype(np.float32) / np.float32(_integer_full_scale(array, label))
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.floating):
        # min and max see any NaN or infinity, so no mask of the whole image is made; a float32 array
        # in range costs one copy (the library passes its float targets through here often: a 4× Figma
        # export's upload spent 4.3 s of 7.3 in 13 conversions that each made three full-size copies)
        values = array if array.dtype == np.float32 else array.astype(np.float32)
        low, high = float(values.min()), float(values.max())
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ImageInputError(f"{label}: float array contains NaN or infinity")
        if low < -FLOAT_TOLERANCE or high > 1.0 + FLOAT_TOLERANCE:
            hint = " (divide by 255?)" if high > 1.0 + FLOAT_TOLERANCE else ""
            raise ImageInputError(
                f"{label}: float values span [{low:.4g}, {high:.4g}]; expected [0, 1]{hint}"
            )
        if low >= 0.0 and high <= 1.0:
            return values.copy() if values is array else values
        return np.clip(values, 0.0, 1.0)
    raise ImageInputError(
        f"{label}: unsupported dtype {array.dtype}; expected integers, bool or float in [0, 1]"
    )


class EightBitWarning(UserWarning):
    """Wider integers holding only 0-255 were read as 8-bit: as 16-bit they would be black."""


def _integer_full_scale(array: np.ndarray, label: str) -> float:
    """The value that is white: 65535 for 16-bit data, 255 when every value is ≤ 255. 8-bit pixels come in
    wider integers (`np.array` of Python ints is int64, a uint16 buffer filled from 8-bit data); read as
    16-bit they were ≤ 0.4 % of white, a black design matched without a word."""
    low, high = (int(array.min()), int(array.max())) if array.size else (0, 0)
    if low < 0 or high > 65535:
        raise ImageInputError(
            f"{label}: integer values span [{low}, {high}]; expected 0-255 (8-bit) or 0-65535 (16-bit)"
        )
    if 0 < high <= 255:
        warnings.warn(
            f"{label}: {array.dtype} values all ≤ 255 (max {high}): read as 8-bit, 255 = white",
            EightBitWarning,
            stacklevel=4,
        )
        return 255.0
    return 65535.0


def _check_size(width: int, height: int, label: str, min_side: int, max_side: int) -> None:
    """Refuse images too small to measure or too large to decode safely."""
    if width < min_side or height < min_side:
        raise ImageInputError(
            f"{label}: image is {width}x{height} px; each side must be at least {min_side} px"
        )
    if width > max_side or height > max_side:
        raise ImageInputError(
            f"{label}: image is {width}x{height} px; each side must be at most {max_side} px "
            "(larger images are refused before decoding, as a decompression-bomb guard)"
        )
