"""The match report (DESIGN.md "The match report"): one definition of how well a candidate matches a
target, used by the UI, the optimisers' progress, validation and benchmarks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from core.imageio import fit_to_aspect, resize, to_rgb_float
from core.metrics import similarity
from core.metrics.border import describe, find_borders, without_borders
from core.metrics.lpips_metric import lpips_or_reason
from core.params.js import is_whole

WORKING_WIDTH = 512
"""Width in px both images are compared at; the height follows the target's aspect ratio."""

MIN_WORKING_SIDE = 7
"""SSIM's 7x7 window needs at least this many px on each side of the working size."""


def working_size(target_width: int, target_height: int, width: int = WORKING_WIDTH) -> tuple[int, int]:
    """(width, height) of the working size: `width` px wide, height = round(width * H / W) of the target.

    Rounds halves up (not to even), so the same target always gets the same size.
    """
    if not is_whole(width):  # 64.5 was taken as given
        raise ValueError(f"working width must be a whole number of pixels, got {width!r}")
    width = int(width)  # the report is plain JSON
    height = max(1, math.floor(width * target_height / target_width + 0.5))
    if width < MIN_WORKING_SIDE or height < MIN_WORKING_SIDE:
        raise ValueError(
            f"working size {width}x{height} px is too small for SSIM's 7-px window "
            f"(target {target_width}x{target_height}, working width {width})"
        )
    return width, height


def prepare_pair(target: Any, candidate: Any, width: int = WORKING_WIDTH) -> tuple[np.ndarray, np.ndarray]:
    """Both images as (h, w, 3) float32 RGB in [0, 1] at the target's working size.

    The target is resized as is. The candidate is first centre-cropped to the target's aspect ratio (the
    renderer shows the same 5 world units across at any aspect, so a render at another aspect is the same
    scene with more or less height), then resized. Inputs: anything `core.imageio.to_rgb_float` accepts.
    """
    target_rgb = to_rgb_float(target)
    candidate_rgb = to_rgb_float(candidate)
    target_h, target_w = target_rgb.shape[:2]
    w, h = working_size(target_w, target_h, width)
    candidate_rgb = fit_to_aspect(candidate_rgb, target_w / target_h)
    return resize(target_rgb, w, h), resize(candidate_rgb, w, h)


def match_report(
    target: Any, candidate: Any, *, lpips: bool = True, working_width: int = WORKING_WIDTH
) -> dict[str, Any]:
    """How well `candidate` matches `target`, as a JSON-ready dict of plain floats.

    Keys: ssim, ssim_black, ssim_gain, ssim_skill, lum_corr (see DESIGN.md for definitions), lpips (AlexNet
    LPIPS distance, >= 0, lower is closer; None when unavailable or not requested), lpips_reason (one
    line when lpips is None, else None) and working_size [w, h]. Images may be paths, bytes, PIL images or
    arrays of any size and mode.
    """
    a, b = prepare_pair(target, candidate, working_width)
    ssim = similarity.ssim(a, b)
    ssim_black = similarity.ssim_black(a)
    if lpips:
        lpips_value, lpips_reason = lpips_or_reason(a, b)
    else:
        lpips_value, lpips_reason = None, "LPIPS not requested (lpips=False)"
    return {
        "ssim": ssim,
        "ssim_black": ssim_black,
        "ssim_gain": ssim - ssim_black,
        "ssim_skill": similarity.ssim_skill(ssim, ssim_black),
        "lum_corr": similarity.lum_corr(a, b),
        "lpips": lpips_value,
        "lpips_reason": lpips_reason,
        "working_size": [a.shape[1], a.shape[0]],
    }


FLAT_SPREAD = 2.0 / 255.0
"""A target whose luminance spans less than this (two 8-bit steps) is one flat colour."""


SMALL_WIDTH = 160
"""Designs narrower than this (the refinement's working width) are enlarged to be matched."""


def target_notes(target: Any) -> list[str]:
    """What the user should hear about a target as it is loaded: one flat colour, too small, a border
    bar."""
    flat = flat_target_note(target)
    if flat:  # a flat image has no border to speak of
        return [flat]
    return [note for note in (small_target_note(target), border_note(target)) if note]


def small_target_note(target: Any) -> str | None:
    """Words for a design narrower than SMALL_WIDTH (None otherwise): it is enlarged for the search and
    the report, so its detail is a blur of a few pixels and the scores say little about a match."""
    h, w = np.asarray(target).shape[:2]
    if w >= SMALL_WIDTH:
        return None
    return (
        f"The design is only {w}×{h} px, narrower than the search's {SMALL_WIDTH}-px working width: it is "
        "enlarged to be matched, so its detail is blurred and the scores say little. Export it 512 px wide "
        "or more for a closer match."
    )


def border_note(target: Any) -> str | None:
    """Words for a target with a border bar (core.metrics.border; None otherwise), with the ceiling it
    sets: the target without its bar scored against the target, the best any match can do."""
    borders = find_borders(target)
    if not borders:
        return None
    ceiling = match_report(target, without_borders(target, borders), lpips=False)
    return (
        f"The design has {describe(borders)} (a screenshot's or frame's border?). No scene draws it "
        f"beside the design, so it caps every match: the design without it scores ssim "
        f"{ceiling['ssim']:.3f}, lum_corr {ceiling['lum_corr']:.3f} against the design as given."
    )


def flat_target_note(target: Any) -> str | None:
    """Words for a target of one flat colour (None otherwise): lum_corr is undefined there (reported as 0)
    and SSIM only asks for the same flat colour, so no figure says anything about a design. Said up front
    so the user does not wait for a refinement to learn it."""
    lum = similarity.luminance(to_rgb_float(target))
    low, high = float(lum.min()), float(lum.max())
    if high - low >= FLAT_SPREAD:
        return None
    shade = "black" if high < FLAT_SPREAD else "white" if low > 1 - FLAT_SPREAD else f"grey {low:.2f}"
    return (
        f"The design is one flat colour ({shade}): there is no light to place, so lum_corr is undefined "
        "(shown as 0) and any scene that draws the same flat colour matches it."
    )
