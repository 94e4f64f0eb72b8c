"""Bright bars along a target's edges: a screenshot's or a frame's border, not part of the design.

Why: `ref.png` carries a 4-px bright bar down its left edge (columns 0–3 at 0.65–0.88 luminance, the
rest of the frame's edge dark). No scene draws it beside the design, so it caps every figure: the seed-0
benchmark match scores lum_corr 0.898 against ref.png and 0.918 against ref.png with the bar painted
black, and ref.png without its bar scores 0.977 against ref.png: the ceiling of any match. The designer
hears that on load (core.metrics.report.target_notes), and the gap report counts it apart from the search.
Refining against the target with the bar painted black did not give a better match (seeds 0 and 1: ssim
0.636 → 0.568 and 0.597 → 0.559 against ref.png as given), so the target is used as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.imageio import to_rgb_float
from core.metrics.similarity import luminance

BAR_LIGHT = 0.5
"""Luminance from which a pixel of an edge line counts as lit."""
BAR_COVER = 0.9
"""Share of an edge line that must be lit for the line to belong to a bar."""
MAX_BAR_SHARE = 0.01
"""A bar is at most this share of the image across it, or 2 px on an image under 200 px across;
anything wider is light the design may hold."""
INSIDE_LINES = 3
"""Lines just inside a bar whose light must fall well below the bar's..."""
INSIDE_DROP = 0.3
"""...by this much mean luminance: a flooded image is lit at its edge and inside alike, not bordered."""

EDGES = ("left", "right", "top", "bottom")


@dataclass(frozen=True)
class Border:
    """A bar along one edge: which edge, how many px wide, and its mean luminance."""

    edge: str
    width: int
    light: float


def _lines_from(lum: np.ndarray, edge: str) -> np.ndarray:
    """The image's lines parallel to `edge`, the edge's own line first: rows of the result."""
    return {"left": lum.T, "right": lum.T[::-1], "top": lum, "bottom": lum[::-1]}[edge]


def find_borders(image: Any) -> list[Border]:
    """The bright bars along the image's edges (none for a render of this renderer's scenes in practice:
    a scene's light does not cover a whole edge line while the lines inside stay dark)."""
    lum = luminance(to_rgb_float(image))
    found = []
    for edge in EDGES:
        lines = _lines_from(lum, edge)
        limit = max(2, int(MAX_BAR_SHARE * lines.shape[0]))
        cover = (lines[: limit + 1] >= BAR_LIGHT).mean(axis=1)
        width = int(np.argmin(cover >= BAR_COVER)) if not cover.all() else limit + 1
        if not 1 <= width <= limit:
            continue
        bar = float(lines[:width].mean())
        inside = float(lines[width : width + INSIDE_LINES].mean())
        if bar - inside >= INSIDE_DROP:
            found.append(Border(edge, width, bar))
    return found


def describe(borders: list[Border]) -> str:
    """'a bright bar 4 px wide along its left edge' (joined with 'and' for several)."""
    return " and ".join(f"a bright bar {b.width} px wide along its {b.edge} edge" for b in borders)


def without_borders(image: Any, borders: list[Border]) -> np.ndarray:
    """The image as float RGB with its bars painted black: what the design would be without them."""
    out = to_rgb_float(image).copy()
    for b in borders:
        side = {"left": np.s_[:, : b.width], "right": np.s_[:, -b.width :]}
        side |= {"top": np.s_[: b.width, :], "bottom": np.s_[-b.width :, :]}
        out[side[b.edge]] = 0.0
    return out
