"""Mirror completion: the mirrored copies of a match that a symmetric target shows and the match lacks.

Why: a match is one main layer and the copies its start had, and the search never adds a layer. figma-01 is
symmetric left-right and top-bottom (its coarse light correlates 0.87 with either flip of itself) and its
match is a ring trail with a 180° copy, which is nearly as symmetric (0.88) but draws one family of arcs
where the design crosses two in an X. With the trail's and the copy's left-right mirror images added as
layers (a scene closed under both flips) and searched on, the two families cross: from the default run's
seed-0 match, 40 s more gave ssim_skill 0.351 and lum_corr 0.949, where 40 s more of the same scene gave
0.253 / 0.912 (benchmarks/RESULTS.md).

A screen reflection F of layer k (spec §4.1: Rz(θ)·S(s)·T(l)·Rz(ρ)·S(a), θ shared by all layers) is a layer
again: F·Rz(θ) = Rz(θ)·F′ with F′ = Rz(β)·M (M the x-flip; β = −2θ for a left-right and π − 2θ for a
top-bottom flip), and F′·T(l)·Rz(ρ)·S(a) = T(Rz(β)·M·l)·Rz(β − ρ)·S(−a_x, a_y). The main layer is the case
l = position, ρ = 0, a = (1, 1) without overrides. Copies keep their layer's overrides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter

from core.imageio import resize, to_rgb_float
from core.metrics.similarity import correlation, luminance
from core.params import validate
from core.refine.space import complete

AXES: dict[str, float] = {"left-right": 0.0, "top-bottom": math.pi}
"""Screen reflections by name → the half-turn offset of β (see the module docstring)."""
SYMMETRY_WIDTH = 128
SYMMETRY_BLUR = 1.5
"""The symmetry of an image is read from its luminance at this width, blurred by this σ in px: coarse
light, so a copy a few pixels off still counts."""
SYMMETRIC = 0.85
"""A target is symmetric under a flip when its light correlates at least this well with its flipped self
(figma-01: 0.87 under both flips; ref.png 0.98 left-right)."""
MAX_LAYERS = 5
"""Copies are added only while the scene keeps at most this many layers (the sampler's most)."""
SAME_LINEAR = 0.1
SAME_SHIFT = 0.1
"""Two layers draw the same copy when their transforms' linear parts differ by at most SAME_LINEAR and
their offsets by at most SAME_SHIFT (scene units, before Scene.scale), entry by entry."""


def symmetry(image: Any) -> dict[str, float]:
    """Pearson correlation of the image's coarse light with its left-right and its top-bottom flip."""
    rgb = to_rgb_float(image)
    height = max(8, round(SYMMETRY_WIDTH * rgb.shape[0] / rgb.shape[1]))
    light = gaussian_filter(luminance(resize(rgb, SYMMETRY_WIDTH, height)), SYMMETRY_BLUR)
    flips = {"left-right": light[:, ::-1], "top-bottom": light[::-1]}
    return {axis: correlation(light, flipped) for axis, flipped in flips.items()}


def _wrapped(angle: float) -> float:
    return math.remainder(angle, 2 * math.pi)


def mirrored_layer(layer: Mapping[str, Any], theta: float, axis: str) -> dict[str, Any]:
    """The layer's mirror image across the screen's `axis` as a layer of the same scene (rotation θ)."""
    beta = AXES[axis] - 2.0 * theta
    lx, ly = -float(layer["position"]["x"]), float(layer["position"]["y"])
    cos, sin = math.cos(beta), math.sin(beta)
    return {
        **layer,
        "position": {"x": cos * lx - sin * ly, "y": sin * lx + cos * ly},
        "rotation": _wrapped(beta - float(layer.get("rotation", 0.0))),
        "scale": {"x": -float(layer["scale"]["x"]), "y": float(layer["scale"]["y"])},
    }


def _affine(layer: Mapping[str, Any]) -> np.ndarray:
    """The layer's transform in the scene frame, T(l)·Rz(ρ)·S(a), as a 2×3 matrix."""
    rho = float(layer.get("rotation", 0.0))
    cos, sin = math.cos(rho), math.sin(rho)
    ax, ay = float(layer["scale"]["x"]), float(layer["scale"]["y"])
    return np.array(
        [
            [cos * ax, -sin * ay, float(layer["position"]["x"])],
            [sin * ax, cos * ay, float(layer["position"]["y"])],
        ]
    )


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    linear, shift = np.abs(a[:, :2] - b[:, :2]).max(), np.abs(a[:, 2] - b[:, 2]).max()
    return bool(linear <= SAME_LINEAR and shift <= SAME_SHIFT)


def _drawn(flat: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The main layer (as a layer) and every layer that draws (a zero scale hides one)."""
    main = {"position": dict(flat["position"]), "rotation": 0.0, "scale": {"x": 1.0, "y": 1.0}}
    layers = [layer for layer in flat["layers"] if layer["scale"]["x"] != 0 and layer["scale"]["y"] != 0]
    return [main, *layers]


def lacks(params: Mapping[str, Any], axis: str) -> bool:
    """Whether some drawn layer's mirror image across `axis` is not already drawn by another layer."""
    flat = complete(params)
    theta = float(flat["rotation"])
    drawn = _drawn(flat)
    have = [_affine(layer) for layer in drawn]
    mirrors = [_affine(mirrored_layer(layer, theta, axis)) for layer in drawn]
    return any(not any(_same(mirror, other) for other in have) for mirror in mirrors)


def mirror_completed(params: Mapping[str, Any], axis: str) -> dict[str, Any] | None:
    """`params` with the mirror image of the main layer and of every drawn layer across `axis` added as
    layers; None when that would pass MAX_LAYERS."""
    flat = complete(params)
    theta = float(flat["rotation"])
    layers = list(flat["layers"])
    drawn = _drawn(flat)
    if len(layers) + len(drawn) > MAX_LAYERS:
        return None
    copies = [mirrored_layer(layer, theta, axis) for layer in drawn]
    return validate({**flat, "layers": layers + copies})


def completion(
    params: Mapping[str, Any], target_symmetry: Mapping[str, float]
) -> tuple[str, dict[str, Any]] | None:
    """The first flip (most symmetric first) the target has and `params` lacks, with `params` completed
    under it; None when there is none or the copies would pass MAX_LAYERS."""
    for axis in sorted(AXES, key=lambda a: -target_symmetry.get(a, 0.0)):
        if target_symmetry.get(axis, 0.0) >= SYMMETRIC and lacks(params, axis):
            completed = mirror_completed(params, axis)
            return None if completed is None else (axis, completed)
    return None


def completion_note(axis: str | None) -> str | None:
    """One sentence for the user when a run added the mirror copies (None when it did not)."""
    if axis is None:
        return None
    return (
        f"The design is {axis} symmetric and its match was not: a quarter of the way in, the search added "
        f"the match's {axis} mirror images as layers."
    )
