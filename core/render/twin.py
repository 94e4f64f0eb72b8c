"""The local renderer twin: parameters → scene → rasterised instances → post effects."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.render.base import Params, Renderer, RenderError
from core.render.color import LUT_MAX_D, LUT_SIZE, display, gradient_lut
from core.render.raster import CENTRE, MSAA4, draw_instances, resolve_samples
from core.render.scene import LayerDraw, build_scene
from core.render.shapes import ALL_FACES, FRONT_FACES, lod_error, tube_mesh, valid_steps

MAX_SIDE = 8192
# quality → (sample pattern, full detail)
QUALITIES = {"exact": (MSAA4, True), "fast": (MSAA4, False), "draft": (CENTRE, False)}


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


# Largest chord error (px) the "fast" level of detail accepts (a quarter pixel: an MSAA sample spacing).
LOD_TOLERANCE_PX = 0.25


def instance_groups(
    draw: LayerDraw, mats: np.ndarray, detail: bool
) -> list[tuple[np.ndarray, int, tuple[int, ...]]]:
    """Split a layer's instances into (index, LOD step, faces) groups.

    Exact quality draws every station and all four faces (culling decides, as on the GPU). Fast quality picks
    per instance the coarsest level of detail whose chord error stays under LOD_TOLERANCE_PX, and only the two
    faces that can face the camera for its orientation (exact except where a thick band folds on itself).
    """
    everyone = np.arange(len(mats))
    if detail:
        return [(everyone, 1, ALL_FACES)]
    lin = mats[:, :, :2]
    det = lin[:, 0, 0] * lin[:, 1, 1] - lin[:, 0, 1] * lin[:, 1, 0]
    scale_px = np.linalg.norm(lin, axis=(1, 2))  # ≥ largest singular value
    steps = valid_steps(draw.geometry)
    errors = np.array([lod_error(draw.geometry, k) for k in steps])
    level = np.searchsorted(-errors[::-1], -LOD_TOLERANCE_PX / np.maximum(scale_px, 1e-12), side="left")
    chosen = np.asarray(steps)[::-1][np.minimum(level, len(steps) - 1)]
    groups = []
    # In pixel space (y down) a non-mirrored world transform has det < 0. The spiral's frame twists out of
    # the plane, so any of its faces may face the camera: keep all four and let culling decide.
    planar = draw.geometry != "spiral"
    for sign, faces in ((-1.0, FRONT_FACES[1]), (1.0, FRONT_FACES[-1])):
        faces = faces if planar else ALL_FACES
        for step in steps:
            idx = everyone[(np.sign(det) == sign) & (chosen == step)]
            if len(idx):
                groups.append((idx, int(step), faces))
    return groups


def rasterise(
    p: dict[str, Any], width: int, height: int, offsets: np.ndarray, detail: bool = True
) -> np.ndarray:
    """Draw a resolved parameter set before post effects; uint8 (H, W, 3)."""
    buf = np.zeros((len(offsets), height, width, 3), dtype=np.uint8)
    direction = np.array([np.sin(p["gradientAngle"]), np.cos(p["gradientAngle"])])
    gradient_range = (float(p["gradientRange"][0]), float(p["gradientRange"][1]))
    for draw in build_scene(p):
        mats = pixel_matrices(draw.matrices, width, height)
        lut = _lut(draw, gradient_range)
        alphas = draw.alphas.astype(np.float64)
        for idx, step, faces in instance_groups(draw, mats, detail):
            verts, tris = tube_mesh(draw.geometry, draw.geo_width, draw.start_angle, step, faces)
            d_local = verts[:, :2] @ direction
            draw_instances(
                buf,
                offsets,
                verts,
                tris,
                d_local,
                np.ascontiguousarray(mats[idx]),
                np.ascontiguousarray(alphas[idx]),
                lut,
                LUT_SIZE / LUT_MAX_D,
            )
    return resolve_samples(buf)


class LocalRenderer(Renderer):
    """The pixel-faithful Python twin of bb-particles (renderer-spec.md).

    quality: "exact" (every tube triangle, culled as the GPU does, with the original's 4-sample MSAA pattern;
    the default), "fast" (the same samples, with a per-instance level of detail and only the camera-facing
    faces; for optimisation loops), "draft" (fast plus one sample per pixel: aliased).
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
        offsets, detail = QUALITIES[self.quality]
        image = rasterise(p, width, height, offsets, detail)
        return apply_effects(image, p["noise"], p["crt"])


def check_size(width: int, height: int) -> None:
    for name, v in (("width", width), ("height", height)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise RenderError(f"{name} must be an integer number of pixels, got {v!r}")
        if not 1 <= v <= MAX_SIDE:
            raise RenderError(f"{name} must be between 1 and {MAX_SIDE} px, got {v}")
