"""The scene's colour fitted to the target's light, by rendering rather than by search.

Why: the losses and the match report hardly see colour on these mostly-black designs (SSIM per channel
over a black frame, luminance correlation), so a start drawn from the bank keeps its lavender or green
through a whole refinement while the Figma design is cream — and a person sees that first (the gap
analysis flagged it on figma-00, 01 and 02). The light's colour follows the scene's (spec §6: lin(main)²
for the main layer, lin(main) ⊙ lin(layer) for layers) until additive glow saturates it, so no closed
form holds; a few updates, each checked by a render, do. Every colour (main and layer overrides) is
scaled per channel, in linear light, by the square root of target / render chromaticity, with its
luminance held: brightness stays the search's business (it trades it against structure).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from core.metrics.similarity import REC709, luminance
from core.render.color import hex_to_rgb, linear_to_srgb, srgb_to_linear

FIT_STEPS = 4
"""Render-and-update rounds."""
DAMPING = 0.7
"""Exponent on each round's gain: the full step overshoots where glow saturates a channel (figma-02's
green went to pink and back); 0.7 settles in 3–4 rounds on the references."""
LIT_SHARE = 0.25
"""Pixels above this share of the 99th-percentile luminance are the light (its colour, its strokes)."""
CLIPPED = 0.97
"""A pixel with a channel at or above this (sRGB) is light that additive glow has clipped towards white:
it shows how much light piles up there, not the scene's colour."""
MIN_UNCLIPPED = 0.25
"""The light's colour is read on its unclipped pixels when they are at least this share of it."""


def lit_mask(lum: np.ndarray) -> np.ndarray | None:
    """The lit pixels of a luminance map (above LIT_SHARE of its 99th percentile); None when black."""
    peak = float(np.percentile(lum, 99))
    return lum > LIT_SHARE * peak if peak > 0 else None


def light_chromaticity(image: np.ndarray) -> np.ndarray | None:
    """The colour of an image's light: luminance-weighted mean linear RGB of its lit pixels, scaled to
    unit luminance; None for a black image. Pixels clipped by glow (a channel ≥ CLIPPED) are left out
    when enough others are lit (MIN_UNCLIPPED).

    Why: a match denser than the design piles more of its light into a white core. Counted in, that core
    made the fit push the colour away from the design's to make up: figma-01's cream came back
    olive-yellow (mid-tones' blue / red 0.72 against the design's 0.87; read on the unclipped light, 0.87).
    """
    rgb = np.asarray(image)
    rgb = rgb.astype(np.float64) / 255.0 if rgb.dtype == np.uint8 else rgb.astype(np.float64)
    lum = luminance(rgb)
    lit = lit_mask(lum)
    if lit is None:
        return None
    unclipped = lit & (rgb.max(axis=-1) < CLIPPED)
    if unclipped.sum() >= MIN_UNCLIPPED * lit.sum():
        lit = unclipped
    mean = (srgb_to_linear(rgb[lit]) * lum[lit][:, None]).sum(axis=0) / lum[lit].sum()
    y = float(mean @ REC709)
    return mean / y if y > 0 else None


def fit_colour(
    params: Mapping[str, Any],
    target: np.ndarray,
    render_at: Callable[[dict[str, Any]], np.ndarray],
    steps: int = FIT_STEPS,
) -> dict[str, Any]:
    """`params` with its colours moved so its render's light has the target's chromaticity.

    `render_at` renders params at the size `target` is compared at. Returns `params` unchanged when
    either image is black.
    """
    want = light_chromaticity(target)
    current = dict(params)
    if want is None:
        return current
    for _ in range(steps):
        have = light_chromaticity(render_at(current))
        if have is None:
            break
        gain = np.sqrt(np.clip(want, 1e-4, None) / np.clip(have, 1e-4, None)) ** DAMPING
        current = _scaled(current, gain)
    return current


def _scaled(params: Mapping[str, Any], gain: np.ndarray) -> dict[str, Any]:
    out = copy.deepcopy(dict(params))
    out["color"] = _scale_hex(out.get("color", "#ffffff"), gain)
    for layer in out.get("layers") or []:
        if isinstance(layer.get("color"), str):
            layer["color"] = _scale_hex(layer["color"], gain)
    return out


def _scale_hex(colour: str, gain: np.ndarray) -> str:
    """The colour times `gain` per channel in linear light, its (squared) luminance held, clipped to 1."""
    linear = srgb_to_linear(hex_to_rgb(colour))
    scaled = linear * gain
    before, after = float((linear**2) @ REC709), float((scaled**2) @ REC709)
    if after > 0:
        scaled *= np.sqrt(before / after)
    srgb = np.clip(linear_to_srgb(np.clip(scaled, 0.0, 1.0)), 0.0, 1.0)
    return "#" + "".join(f"{round(float(c) * 255):02x}" for c in srgb)
