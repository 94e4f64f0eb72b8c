"""Vector designs rasterised: SVG with skia's SVG module, PDF with PDFium (pypdfium2), so a Figma SVG or PDF
export is a target like its PNG export.

Why: Figma exports a frame as PNG, JPG, SVG or PDF, and a designer drops whichever is at hand. A vector
design is drawn here at its own size (an SVG's width/height, else its viewBox; a PDF's first page, one
point a pixel), at least RASTER_MIN_WIDTH px wide (a vector drawn small would lose the thin strokes the
match report looks at), onto black as transparent PNGs are (core.imageio). The libraries are imported
only when such a file arrives.
"""

from __future__ import annotations

import math
import re

import numpy as np

RASTER_MIN_WIDTH = 1024
"""An SVG smaller than this is drawn scaled up to this width: the renderer's finishing stage draws at
the target's size up to 1024 px (core.refine), and the report compares at 512 px."""
SVG_HEAD = 4096
"""Bytes read to tell an SVG from other files (an XML declaration and comments can come first)."""

_VIEWBOX = re.compile(rb"<svg\b[^>]*?\bviewBox\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE | re.DOTALL)


class SvgError(ValueError):
    """A vector file (SVG or PDF) that cannot be drawn: the message says why and what to do instead."""


def is_svg(head: bytes) -> bool:
    """Whether the first bytes of a file are an SVG document (an XML file whose root is <svg>)."""
    text = head[:SVG_HEAD].lstrip()
    prologue = text.startswith((b"<?xml", b"<!--", b"<!DOCTYPE"))
    return text.startswith(b"<svg") or (prologue and b"<svg" in text)


def svg_size(data: bytes, width: float, height: float) -> tuple[float, float]:
    """The drawing's size: skia's intrinsic size (width/height attributes), else the viewBox's."""
    if width > 0 and height > 0:
        return width, height
    match = _VIEWBOX.search(data[: 64 * 1024])
    if match:
        numbers = re.split(rb"[\s,]+", match.group(1).strip())
        try:
            vb_width, vb_height = float(numbers[2]), float(numbers[3])
        except (IndexError, ValueError):
            vb_width = vb_height = 0.0
        if vb_width > 0 and vb_height > 0:
            return vb_width, vb_height
    raise SvgError("the SVG has no size (width and height, or a viewBox): export the design as PNG")


def raster_size(
    width: float, height: float, min_width: int, max_side: int, what: str
) -> tuple[float, tuple[int, int]]:
    """(zoom, (W, H) px) for a drawing of `width` × `height` units: one unit a pixel, enlarged to
    `min_width` px wide but never past `max_side` on its height; SvgError when a side is over `max_side`
    at its own size (checked before anything is allocated)."""
    zoom = max(1.0, min(min_width / width, max_side / height))
    pixels = (max(1, math.ceil(width * zoom - 1e-6)), max(1, math.ceil(height * zoom - 1e-6)))
    if max(pixels) > max_side:
        raise SvgError(
            f"{what} is {pixels[0]}x{pixels[1]} px; each side must be at most {max_side} px: "
            "export the design as PNG at a smaller size"
        )
    return zoom, pixels


def rasterize_svg(data: bytes, min_width: int = RASTER_MIN_WIDTH, max_side: int = 10_000) -> np.ndarray:
    """The SVG drawn on black as an (H, W, 3) float32 RGB array in [0, 1], at its own size or scaled up
    to `min_width` px wide (less when its height would pass `max_side`); a drawing over `max_side` px on
    a side at its own size is refused before any is allocated."""
    try:
        import skia
    except ImportError as exc:  # pragma: no cover - skia-python is a requirement
        raise SvgError(f"drawing an SVG needs skia-python ({exc}): export the design as PNG") from exc
    dom = skia.SVGDOM.MakeFromStream(skia.MemoryStream(data))
    if dom is None:
        raise SvgError("the SVG could not be parsed: export the design as PNG")
    intrinsic = dom.containerSize()
    width, height = svg_size(data, intrinsic.width(), intrinsic.height())
    dom.setContainerSize(skia.Size(width, height))
    zoom, pixels = raster_size(width, height, min_width, max_side, "the SVG")
    surface = skia.Surface(*pixels)
    with surface as canvas:
        canvas.clear(skia.ColorBLACK)
        canvas.scale(zoom, zoom)
        dom.render(canvas)
    rgba = surface.makeImageSnapshot().toarray(colorType=skia.kRGBA_8888_ColorType)
    return rgba[..., :3].astype(np.float32) / 255.0  # opaque: drawn over black


def is_pdf(head: bytes) -> bool:
    """Whether the first bytes of a file are a PDF's header."""
    return head.startswith(b"%PDF-")


def rasterize_pdf(data: bytes, min_width: int = RASTER_MIN_WIDTH, max_side: int = 10_000) -> np.ndarray:
    """The PDF's first page drawn on black as an (H, W, 3) float32 RGB array in [0, 1], one point a pixel
    or scaled up to `min_width` px wide, as rasterize_svg (a Figma frame exports as one page)."""
    try:
        import pypdfium2 as pdfium
    except ImportError as exc:  # pragma: no cover - pypdfium2 is a requirement
        raise SvgError(f"drawing a PDF needs pypdfium2 ({exc}): export the design as PNG") from exc
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise SvgError(f"the PDF could not be opened ({exc}): export the design as PNG") from exc
    try:
        if len(document) == 0:
            raise SvgError("the PDF has no page: export the design as PNG")
        page = document[0]
        width, height = page.get_size()
        if not (width > 0 and height > 0):
            raise SvgError("the PDF's first page has no size: export the design as PNG")
        zoom, _ = raster_size(width, height, min_width, max_side, "the PDF's page")
        bitmap = page.render(scale=zoom, fill_color=(0, 0, 0, 255), rev_byteorder=True)
        rgb = bitmap.to_numpy()[..., :3].astype(np.float32) / 255.0
    finally:
        document.close()
    return rgb
