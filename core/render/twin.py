"""The local renderer twin: parameters → scene → rasterised instances → post effects."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.render.base import Params, Renderer, RenderError
from core.render.color import LUT_MAX_D, LUT_SIZE, display, gradient_lut
from core.render.raster import CENTRE, MSAA4, draw_instances, resolve_samples
from core.render.scene import LayerDraw, build_scene
from core.render.shapes import tube_mesh

MAX_SIDE = 8192
QUALITIES = {"exact": MSAA4, "fast": MSAA4, "draft": CENTRE}


def pixel_matrices(matrices: np.ndarray, width: int, height: int) -> np.ndarray:
    """World (n, 3, 4) → pixel (n, 2, 4): px = W/2 + X·W/5, py = H/2 − Y·W/5 (5 world units across)."""
    k = width / 5.0
    out = np.empty((len(matrices), 2, 4))
    out[:, 0, :] = k * matrices[:, 0, :]
    out[:, 1, :] = -k * matrices[:, 1, :]
    out[:, 0, 3] += width / 2.0
    out[:, 1, 3] += height / 2.0
    return out


def _lut(draw: LayerDraw, gradient_range: tuple[float, float]) -> np.ndarray:
    if not draw.gradient:
        return np.repeat(display(draw.base_color)[None, :], LUT_SIZE + 1, axis=0)
    return gradient_lut(draw.base_color, gradient_range)


def rasterise(p: dict[str, Any], width: int, height: int, offsets: np.ndarray) -> np.ndarray:
    """Draw a resolved parameter set before post effects; uint8 (H, W, 3)."""
    buf = np.zeros((len(offsets), height, width, 3), dtype=np.uint8)
    direction = np.array([np.sin(p["gradientAngle"]), np.cos(p["gradientAngle"])])
    gradient_range = (float(p["gradientRange"][0]), float(p["gradientRange"][1]))
    for draw in build_scene(p):
        verts, tris = tube_mesh(draw.geometry, draw.geo_width, draw.start_angle)
        d_local = verts[:, :2] @ direction
        mats = pixel_matrices(draw.matrices, width, height)
        draw_instances(buf, offsets, verts, tris, d_local, mats, draw.alphas.astype(np.float64),
                       _lut(draw, gradient_range), LUT_SIZE / LUT_MAX_D)
    return resolve_samples(buf)


class LocalRenderer(Renderer):
    """The pixel-faithful Python twin of bb-particles (renderer-spec.md).

    quality: "exact" (the original's 4-sample MSAA pattern; default), "fast" (same today, reserved for
    cheaper geometry), "draft" (one sample per pixel: aliased, ~4× less raster work).
    """

    name = "local"

    def __init__(self, quality: str = "exact") -> None:
        if quality not in QUALITIES:
            raise ValueError(f"unknown quality {quality!r}; choose one of {sorted(QUALITIES)}")
        self.quality = quality

    def render(self, params: Params, width: int = 1024, height: int = 1024) -> np.ndarray:
        from core.params import resolve
        from core.render.effects import apply_effects

        check_size(width, height)
        p = resolve(params)
        image = rasterise(p, width, height, QUALITIES[self.quality])
        return apply_effects(image, p["noise"], p["crt"])


def check_size(width: int, height: int) -> None:
    for name, v in (("width", width), ("height", height)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise RenderError(f"{name} must be an integer number of pixels, got {v!r}")
        if not 1 <= v <= MAX_SIDE:
            raise RenderError(f"{name} must be between 1 and {MAX_SIDE} px, got {v}")
