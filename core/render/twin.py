"""The local renderer twin: parameters → scene → rasterised instances → post effects."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.params import resolve
from core.render.base import Params, Renderer, RenderError
from core.render.color import LUT_MAX_D, LUT_SIZE, display, gradient_lut
from core.render.effects import apply_effects
from core.render.raster import CENTRE, MSAA4, draw_bands, draw_instances, resolve_samples
from core.render.scene import LayerDraw, build_scene
from core.render.shapes import band_edges, lod_error, tube_mesh, valid_steps

MAX_SIDE = 8192
MAX_PIXEL_COORD = 1e9
# quality → (sample pattern, level-of-detail tolerance in px; None = full detail). fast: half the MSAA
# sample spacing, so a chord never moves an edge past the next sample; draft (one aliased sample per
# pixel): one pixel, which left its golden fidelity unchanged (lum_corr min 0.985 at both 0.5 and 1 px).
QUALITIES = {"exact": (MSAA4, None), "fast": (MSAA4, 0.25), "draft": (CENTRE, 1.0)}


def pixel_matrices(matrices: np.ndarray, width: int, height: int) -> np.ndarray:
    """World (n, 3, 4) → pixel (n, 2, 4): px = W/2 + X·W/5, py = H/2 − Y·W/5 (5 world units across)."""
    k = width / 5.0
    out = np.empty((len(matrices), 2, 4))
    out[:, 0, :] = k * matrices[:, 0, :]
    out[:, 1, :] = -k * matrices[:, 1, :]
    out[:, 0, 3] += width / 2.0
    out[:, 1, 3] += height / 2.0
    return out


def _lut(draw: LayerDraw, gradient_range: tuple[float, float], size: int) -> np.ndarray:
    if not draw.gradient:
        return np.repeat(display(draw.base_color)[None, :], size + 1, axis=0)
    return gradient_lut(draw.base_color, gradient_range, size)


def lut_size(width: int, lod_px: float | None) -> int:
    """Gradient table entries: the full LUT_SIZE for exact renders; for the fast qualities enough that one
    step of |d| stays far below a pixel (4 entries per pixel of width over the 1.5-unit table, ≥ 1024)."""
    return LUT_SIZE if lod_px is None else int(min(LUT_SIZE, max(1024, 4 * width)))


def lod_steps(draw: LayerDraw, mats: np.ndarray, tolerance_px: float) -> np.ndarray:
    """Per instance, the coarsest LOD step whose chord error stays under tolerance_px."""
    scale_px = np.linalg.norm(mats[:, :, :2], axis=(1, 2))  # ≥ largest singular value
    steps = np.asarray(valid_steps(draw.geometry))
    errors = np.array([lod_error(draw.geometry, int(k)) for k in steps])  # increasing with the step
    ok = errors[None, :] * scale_px[:, None] <= tolerance_px
    coarsest = np.where(ok, np.arange(len(steps))[None, :], 0).max(axis=1)
    return steps[coarsest]


def rasterise(
    p: dict[str, Any], width: int, height: int, offsets: np.ndarray, lod_px: float | None = None
) -> np.ndarray:
    """Draw a resolved parameter set before post effects; uint8 (H, W, 3).

    Planar shapes go through `draw_bands` (the tube's camera-facing faces as one quad per segment, with the
    GPU's culling where the band folds: the same pixels as the full tube, 4× less set-up work); the spiral,
    whose frame twists out of the plane, through the full tube. lod_px adds a per-instance level of detail
    (chord error ≤ lod_px pixels) for optimisation loops.
    """
    buf = np.zeros((len(offsets), height, width, 3), dtype=np.uint8)
    direction = np.array([np.sin(p["gradientAngle"]), np.cos(p["gradientAngle"])])
    gradient_range = (float(p["gradientRange"][0]), float(p["gradientRange"][1]))
    n_lut = lut_size(width, lod_px)
    scale = n_lut / LUT_MAX_D
    for draw in build_scene(p):
        mats = pixel_matrices(draw.matrices, width, height)
        # Blown-up instances (σ far beyond the frame, e.g. scaleFactor 1.8 over 200 fibonacci steps) have
        # coordinates no float32 GPU pipeline resolves either; drop them instead of drawing garbage.
        sane = np.all(np.abs(mats) < MAX_PIXEL_COORD, axis=(1, 2))
        mats = mats[sane]
        alphas = draw.alphas[sane].astype(np.float64)
        lut = _lut(draw, gradient_range, n_lut)
        if draw.geometry == "spiral":
            verts, tris = tube_mesh(draw.geometry, draw.geo_width, draw.start_angle)
            draw_instances(buf, offsets, verts, tris, verts[:, :2] @ direction, mats, alphas, lut, scale)
            continue
        steps = np.ones(len(mats), dtype=np.int64) if lod_px is None else lod_steps(draw, mats, lod_px)
        for step in np.unique(steps):
            idx = np.flatnonzero(steps == step)
            left, right = band_edges(draw.geometry, draw.geo_width, draw.start_angle, int(step))
            draw_bands(
                buf,
                offsets,
                left,
                right,
                direction,
                np.ascontiguousarray(mats[idx]),
                np.ascontiguousarray(alphas[idx]),
                lut,
                scale,
            )
    return buf[0] if len(offsets) == 1 else resolve_samples(buf)


class LocalRenderer(Renderer):
    """The pixel-faithful Python twin of bb-particles (renderer-spec.md).

    quality: "exact" (every tube triangle, culled as the GPU does, with the original's 4-sample MSAA pattern;
    the default), "fast" (the same samples, with a per-instance level of detail and only the camera-facing
    faces; for optimisation loops), "draft" (one sample per pixel and a coarser level of detail: aliased).
    """

    name = "local"

    def __init__(self, quality: str = "exact") -> None:
        if quality not in QUALITIES:
            raise ValueError(f"unknown quality {quality!r}; choose one of {sorted(QUALITIES)}")
        self.quality = quality

    def render(self, params: Params, width: int = 1024, height: int = 1024) -> np.ndarray:
        check_size(width, height)
        p = resolve(params)
        offsets, lod_px = QUALITIES[self.quality]
        image = rasterise(p, width, height, offsets, lod_px)
        return apply_effects(image, p["noise"], p["crt"])


def check_size(width: int, height: int) -> None:
    for name, v in (("width", width), ("height", height)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise RenderError(f"{name} must be an integer number of pixels, got {v!r}")
        if not 1 <= v <= MAX_SIDE:
            raise RenderError(f"{name} must be between 1 and {MAX_SIDE} px, got {v}")
