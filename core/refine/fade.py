"""One-sided fades: how much an image's light differs between opposite sides of a match's own shapes.

Why: the renderer's gradient is symmetric about each shape's centre. It lights a fragment by
q = 0.5 + 0.5·|p·d| of its local position p (renderer-spec §6, step 2), so the points p and −p of a ring,
a square, a figure eight always get the same colour. A design drawn elsewhere can fade each shape
from one side to the other: figma-02's rings are lit along the corner they share and dark on their far
side. No parameter draws that, so it is a ceiling, and the gap analysis should say so in words.

The measure samples both images along the match's shapes, where the renderer drew them (the same scene
build as the twin), after a blur that spreads a stroke over its neighbours: a match whose rings sit a
few pixels off the target's still reads the target's light there. At each sample it takes the log ratio
of the target's light to the render's: overlaps (a trail's shared corner) are in both and cancel, and
what is left is how the target lights each part of a shape differently from the render. Then, over
directions d in the shapes' own frame, it fits that ratio with a one-sided term p·d and with the
symmetric term |p·d| that the renderer's gradient can change. Measured on train.validate's matches
(seed 0): figma-02's ring-trail pair, one-sided R² 0.50 against symmetric 0.03; figma-01 0.16 / 0.00;
ref.png (a render of the original) 0.05 / 0.04. Renderer-drawn targets: the 20 synthetic targets of
benchmarks.refine against their refined matches at most 0.10 one-sided, against 97 first guesses at most
0.26. The fit depends on the match: figma-02's seed-1 match draws arches (half rings, cut off), whose
light leaves no fade to explain (0.003).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter, map_coordinates

from core.params import ParamsError, resolve
from core.render.scene import build_scene
from core.render.shapes import rotated_frames
from core.render.twin import pixel_matrices

SAMPLE_SIGMA = 3.0
"""Blur (px at the images' width) before sampling: a stroke a few pixels off still reads its side's light."""
MAX_INSTANCES = 64
"""Instances sampled per layer, evenly spread over the trail (the fit needs the trend, not all 500)."""
STATION_STEP = 2
"""Every second station of the outline (48 of 96 on a ring; the blur spans more than the gap)."""
MIN_LIGHT = 0.02
"""Samples whose two images sum to less luminance than this are skipped: dark in both says nothing."""
LOG_FLOOR = 0.01
"""Added to both lights before the log ratio, so that a dark sample in one image does not dominate."""
MIN_SAMPLES = 500
"""Fewer lit samples than this are too few to tell a fade from noise (a first guess with 230 reached a
one-sided R² of 0.30 by chance)."""
DIRECTIONS = 36
"""Directions tried for d: every 5° over half a turn (d and −d fit alike, with the slope's sign flipped)."""


def shape_samples(params: Mapping[str, Any], width: int, height: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(pixel positions (n, 2) as x, y with y down; local positions (n, 2)) of outline stations on every
    sampled instance of a scene drawn at width × height; None for an empty scene or params the renderer
    rejects. Local positions are the p of the gradient (after startAngle)."""
    try:
        p = resolve(params)
    except ParamsError:
        return None
    points = rotated_frames(p["geometry"], float(p["startAngle"]))[0][::STATION_STEP]
    local = points[:, :2]
    positions, local_positions = [], []
    for draw in build_scene(p):
        mats = pixel_matrices(draw.matrices, width, height)
        finite = np.all(np.isfinite(mats), axis=(1, 2))
        area = np.abs(np.linalg.det(np.where(finite[:, None, None], mats[:, :, :2], 0.0)))
        keep = np.flatnonzero((draw.alphas > 0) & finite & (area > 1e-6))  # a hidden copy has scale 0
        if len(keep) > MAX_INSTANCES:
            keep = keep[np.linspace(0, len(keep) - 1, MAX_INSTANCES).round().astype(int)]
        for m in mats[keep]:
            positions.append(points @ m[:, :3].T + m[:, 3])
            local_positions.append(local)
    if not positions:
        return None
    return np.concatenate(positions), np.concatenate(local_positions)


def fade_fit(
    target_lum: np.ndarray, render_lum: np.ndarray, params: Mapping[str, Any]
) -> dict[str, Any] | None:
    """How well a one-sided and a symmetric fade explain the target's light over the render's along the
    match's shapes: {"one_sided": R², "symmetric": R², "samples": n}. Both luminance maps (h, w) show the
    render's frame (5 world units across the width). None when too few samples carry light (or the params
    are rejected). Any shape: the fit needs no opposite pairs, and where an outline gives p·d one sign only
    (an arch, d across its opening) the two terms are the same and explain alike."""
    h, w = target_lum.shape
    found = shape_samples(params, w, h)
    if found is None:
        return None
    xy, local = found
    inside = (xy[:, 0] >= 0) & (xy[:, 0] <= w - 1) & (xy[:, 1] >= 0) & (xy[:, 1] <= h - 1)
    xy, local = xy[inside], local[inside]
    coords = [xy[:, 1], xy[:, 0]]
    t = map_coordinates(gaussian_filter(np.asarray(target_lum, np.float64), SAMPLE_SIGMA), coords, order=1)
    r = map_coordinates(gaussian_filter(np.asarray(render_lum, np.float64), SAMPLE_SIGMA), coords, order=1)
    lit = t + r >= MIN_LIGHT
    if lit.sum() < MIN_SAMPLES:
        return None
    ratio = np.log(t[lit] + LOG_FLOOR) - np.log(r[lit] + LOG_FLOOR)
    local = local[lit]
    spread = float(((ratio - ratio.mean()) ** 2).sum())
    if spread <= 1e-12:
        return {"one_sided": 0.0, "symmetric": 0.0, "samples": int(lit.sum())}
    angles = np.linspace(0.0, np.pi, DIRECTIONS, endpoint=False)
    projections = local @ np.stack([np.sin(angles), np.cos(angles)])  # (n, DIRECTIONS)
    return {
        "one_sided": round(_best_r2(ratio, projections, spread), 3),
        "symmetric": round(_best_r2(ratio, np.abs(projections), spread), 3),
        "samples": int(lit.sum()),
    }


def _best_r2(y: np.ndarray, features: np.ndarray, spread: float) -> float:
    """The best R² of y ≈ a + b·f over the columns f of `features` (simple regression per column)."""
    fc = features - features.mean(axis=0)
    yc = y - y.mean()
    var = (fc**2).sum(axis=0)
    explained = np.where(var > 1e-12, (fc.T @ yc) ** 2 / np.maximum(var, 1e-12), 0.0)
    return float(explained.max() / spread)
