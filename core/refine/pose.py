"""Moving a whole scene in the frame — shift, turn, zoom — and finding the shift that lays a candidate's
light over the target's.

Why: a guess with the right structure in the wrong place scores almost as badly as a wrong one (thin
lines overlap nowhere), and CMA-ES, taking small steps, rarely walks a design across the frame. The
scene's pose is exactly expressible (spec §4.1: every layer's parent is Rz(θ)·S(s)·T(·)·…): turning adds
to θ, zooming multiplies s, and shifting moves the main position p and every layer's position l by the
same amount inside the rotation and scale. The shift itself comes from cross-correlating the blurred
light of the two images (image registration), one FFT instead of a search.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter
from skimage.registration import phase_cross_correlation

from core.metrics.similarity import luminance
from core.params import validate
from core.refine.evaluate import Scorer
from core.refine.space import complete

VISIBLE_WIDTH = 5.0
"""World units across the frame at any size and aspect (spec §1)."""
REGISTRATION_SIGMA = 2.0
"""Blur (px) before registration: thin strokes that miss by a few px still correlate."""
POSE_TURNS = (-0.2, 0.2)
"""Turns (rad) tried by `pose_variants`, each followed by a registration."""
POSE_ZOOMS = (0.85, 1.18)
"""Zoom factors tried by `pose_variants`, each followed by a registration."""


def shift_scene(params: Mapping[str, Any], dx: float, dy: float) -> dict[str, Any]:
    """The scene moved by (dx, dy) world units on screen (+x right, +y up): p and every layer's l move by
    the same amount, expressed inside the scene's rotation θ and scale s."""
    flat = complete(params)  # a layer-less scene's implicit mirror layer made explicit, so it moves too
    ux, uy = _inside_scene(flat, dx, dy)
    for node in (flat, *flat["layers"]):
        node["position"] = {"x": node["position"]["x"] + ux, "y": node["position"]["y"] + uy}
    return validate(flat)


def separate_copy(params: Mapping[str, Any], dx: float, dy: float) -> dict[str, Any]:
    """The main layer moved by (dx, dy) world units on screen and its first layer, a copy symmetric about
    the frame's centre (`core.refine.alternatives.symmetry_variants`: l = a ⊙ p), by that move mirrored as
    the copy is (a ⊙ move): the pair stays symmetric and moves apart or together.

    Why: a design of two copies apart (figma-02: two ring trails, one the other turned 180°) is a pair the
    shift cannot separate, since it moves both alike, and CMA-ES would have to move four coordinates in
    step to walk there."""
    flat = complete(params)
    ux, uy = _inside_scene(flat, dx, dy)
    layer = flat["layers"][0]
    ax, ay = math.copysign(1.0, layer["scale"]["x"]), math.copysign(1.0, layer["scale"]["y"])
    flat["position"] = {"x": flat["position"]["x"] + ux, "y": flat["position"]["y"] + uy}
    layer["position"] = {"x": layer["position"]["x"] + ax * ux, "y": layer["position"]["y"] + ay * uy}
    return validate(flat)


def _inside_scene(flat: Mapping[str, Any], dx: float, dy: float) -> tuple[float, float]:
    """An on-screen move (dx, dy) in world units, expressed inside the scene's rotation θ and scale s,
    where the positions p and l sit (spec §4.1)."""
    theta, s = float(flat["rotation"]), float(flat["scale"]) or 1e-6
    c, n = math.cos(-theta), math.sin(-theta)
    return (c * dx - n * dy) / s, (n * dx + c * dy) / s


def registration_shift(target: np.ndarray, candidate: np.ndarray) -> tuple[float, float]:
    """(dx, dy) in world units that moves `candidate`'s light onto `target`'s (same-size RGB images).

    Plain cross-correlation of the blurred luminances, zero-padded to twice the size so a shift does not
    wrap around; (0, 0) when either image is black.
    """
    t = gaussian_filter(luminance(target), REGISTRATION_SIGMA)
    c = gaussian_filter(luminance(candidate), REGISTRATION_SIGMA)
    if not t.any() or not c.any():
        return 0.0, 0.0
    h, w = t.shape
    pad = ((0, h), (0, w))
    (row, col), _, _ = phase_cross_correlation(np.pad(t, pad), np.pad(c, pad), normalization=None)
    per_px = VISIBLE_WIDTH / w
    return float(col) * per_px, -float(row) * per_px


def turn_scene(params: Mapping[str, Any], angle: float) -> dict[str, Any]:
    """The scene turned by `angle` rad (counter-clockwise) about the frame's centre."""
    theta = float(params.get("rotation", 0.0)) + angle
    return validate({**params, "rotation": math.remainder(theta, 2 * math.pi)})


def zoom_scene(params: Mapping[str, Any], factor: float) -> dict[str, Any]:
    """The scene scaled by `factor` about the frame's centre (clamped to the scale's bounds)."""
    return validate({**params, "scale": float(params.get("scale", 1.0)) * factor})


def aligned(scorer: Scorer, params: Mapping[str, Any], image: np.ndarray | None = None) -> dict[str, Any]:
    """`params` shifted so its render's light lies over the target's (the scorer's loss holds the target).
    `image`: the scorer's render of `params` when the caller has it already (not drawn again)."""
    if image is None:
        image = scorer.image(dict(params))  # uint8, or float in [0, 1] when supersampled
    image = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image
    return shift_scene(params, *registration_shift(scorer.loss.target, image))


def pose_variants(
    scorer: Scorer,
    params: Mapping[str, Any],
    turns: tuple[float, ...] = POSE_TURNS,
    zooms: tuple[float, ...] = POSE_ZOOMS,
) -> list[tuple[str, dict[str, Any]]]:
    """(name, params): the scene shifted onto the target, and turned or zoomed by each step then shifted:
    a coarse pose search at one registration each, since the shift is the part no grid could afford."""
    out = [("shifted", aligned(scorer, params))]
    out += [(f"turned {math.degrees(a):+.0f}°", aligned(scorer, turn_scene(params, a))) for a in turns]
    out += [(f"zoomed ×{k:g}", aligned(scorer, zoom_scene(params, k))) for k in zooms]
    return out
