"""The words and images a VLM judge sees, as a neutral list of parts each backend translates.

References come first and are named as the goal aesthetic; the candidate last; then the strict answer
format, with the scale anchored so scores are calibrated rather than all 7s.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.imageio import resize, to_uint8

Part = str | np.ndarray
"""A prompt part: text, or an (H, W, 3) uint8 image."""

SCALE = (
    "Use the whole scale, calibrated: 1 = empty, broken or unrelated to the references; 3 = weak; "
    "5 = competent but unremarkable; 7 = good, close in spirit; 9 = as good as the references; "
    "10 = better than them."
)

SCORE_TASK = (
    "You judge renders of a generative-art tool for a designer. The reference designs above define the goal "
    "aesthetic: composition, line quality, glow, balance and use of black space. Rate the candidate render "
    "for how well it achieves that aesthetic and how good it is as a design. " + SCALE + "\n"
    "Answer with exactly one line in this format:\nSCORE: <number>/10 — <one-line reason>"
)

COMPARE_TASK = (
    "You judge renders of a generative-art tool for a designer. The reference designs above define the goal "
    "aesthetic: composition, line quality, glow, balance and use of black space. Which render, A or B, "
    "achieves that aesthetic better as a design? Answer with exactly one line in this format:\n"
    "PREFER: <A|B|TIE> — <one-line reason>"
)


def shrink(image: np.ndarray, max_side: int) -> np.ndarray:
    """An image as uint8 with its longer side at most `max_side` px (VLM image tokens grow with area)."""
    pixels = to_uint8(image)
    height, width = pixels.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return pixels
    return resize(pixels, max(1, round(width * scale)), max(1, round(height * scale)))


def score_prompt(references: Sequence[np.ndarray], candidate: np.ndarray, brief: str = "") -> list[Part]:
    parts: list[Part] = _reference_parts(references, brief)
    parts += ["Candidate render:", candidate, SCORE_TASK]
    return parts


def compare_prompt(
    references: Sequence[np.ndarray], first: np.ndarray, second: np.ndarray, brief: str = ""
) -> list[Part]:
    parts: list[Part] = _reference_parts(references, brief)
    parts += ["Render A:", first, "Render B:", second, COMPARE_TASK]
    return parts


def _reference_parts(references: Sequence[np.ndarray], brief: str) -> list[Part]:
    parts: list[Part] = []
    for i, image in enumerate(references, start=1):
        parts += [f"Reference design {i} (the goal aesthetic):", image]
    if brief:
        parts.append(f"Designer's brief: {brief}")
    return parts
