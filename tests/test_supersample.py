"""Supersampling chosen from the design: 2× where its strokes are thinner than a working pixel."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.imageio import to_rgb_float
from core.inverse import InverseModel, ModelConfig
from core.inverse.guess import guess
from core.params import defaults
from core.refine import Refiner
from core.refine.supersample import (
    THIN_STROKE_PX,
    auto_supersample,
    resolved_supersample,
    supersample_note,
    working_stroke,
)

NS = 'xmlns="http://www.w3.org/2000/svg"'


def _rings(stroke: float) -> np.ndarray:
    """Ten concentric rings on a 1652×919 design (as Figma exports), strokes `stroke` px wide."""
    circles = "".join(f'<circle cx="826" cy="460" r="{r}"/>' for r in range(40, 401, 40))
    svg = f'<svg {NS} width="1652" height="919"><g fill="none" stroke="#f5f3e7" stroke-width="{stroke}">'
    return to_rgb_float(f"{svg}{circles}</g></svg>".encode())


def test_thin_strokes_are_scored_at_2x_and_said() -> None:
    thin = _rings(3)
    width = working_stroke(thin, 160)
    # 3 px of 1652 is 0.29 px at 160; measured at 512 px, where the antialiased lines read ≈ 1.7 px wide
    assert width is not None and 0.15 < width < THIN_STROKE_PX
    assert auto_supersample(thin, 160) == 2
    note = supersample_note(thin, 160)
    assert note is not None and "2×" in note and f"{width:.1f} px" in note
    # the same design at a wider working size has strokes over a working pixel
    assert auto_supersample(thin, 160 * round(2 * THIN_STROKE_PX / width)) == 1


def test_strokes_thinner_than_the_measure_can_tell_are_told_as_at_most() -> None:
    """A 9000-px design of 3-px lines (0.05 px at 160) was told as 0.3 px: measured at 512 px, a line
    reads at least about a pixel wide there."""
    design = np.zeros((2250, 4000, 3), np.float32)
    design[200:2100:150, 300:3700] = 1.0  # 1-px lines: 0.04 px at 160
    note = supersample_note(design, 160)
    assert note is not None and "strokes are at most 0.4 px wide" in note


def test_wide_strokes_and_black_stay_at_1x() -> None:
    wide = _rings(24)
    assert working_stroke(wide, 160) > THIN_STROKE_PX
    assert auto_supersample(wide, 160) == 1 and supersample_note(wide, 160) is None
    black = np.zeros((90, 160, 3), np.float32)
    assert working_stroke(black, 160) is None and auto_supersample(black, 160) == 1


def test_the_refiner_and_the_guess_choose_alike_unless_told() -> None:
    thin, wide = _rings(3), _rings(24)
    start = defaults()
    assert Refiner(thin, start, budget_evals=10).supersample == 2
    assert Refiner(wide, start, budget_evals=10).supersample == 1
    assert Refiner(thin, start, budget_evals=10, supersample=1).supersample == 1
    assert resolved_supersample(3, thin, 160) == 3
    with pytest.raises(ValueError, match="supersample"):
        resolved_supersample(9, thin, 160)
    torch.manual_seed(0)
    model = InverseModel(ModelConfig(backbone="test_resnet", input_size=32, neck=32), pretrained=False).eval()
    auto = guess(model, thin, None, motifs=0)
    assert auto.losses == guess(model, thin, None, motifs=0, supersample=2).losses
    assert auto.losses != guess(model, thin, None, motifs=0, supersample=1).losses
