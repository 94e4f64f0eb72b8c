"""The stroke width fitted at the report's size: a run hands over the target's geoWidth, not a look-alike."""

from __future__ import annotations

import pytest

from core.params import sample_params
from core.refine import refine_to_end
from core.refine.loss import make_loss
from core.refine.space import complete
from core.refine.stroke import FACTORS, fit_stroke
from core.render import render

W, H = 320, 180


@pytest.fixture(scope="module")
def scene() -> dict:
    scene = complete(sample_params(30, seed=9000, mode="weighted", n_layers=0)[9])
    return {**scene, "geoWidth": 0.012}


def test_the_target_width_is_found_among_the_factors(scene: dict) -> None:
    loss = make_loss("ssim_lum", render(scene, W, H, "exact"), W)

    def score(params: dict) -> float:
        return loss(render(params, W, H, "exact"))

    start = {**scene, "geoWidth": 0.03}  # 2.5× the target's: 0.4× brings it back
    fitted, value = fit_stroke(start, score(start), score)
    assert fitted["geoWidth"] == pytest.approx(0.012, abs=1e-9)
    assert value < 0.1 * score(start)


def test_widths_at_the_bound_are_tried_once(scene: dict) -> None:
    calls: list[float] = []
    fit_stroke({**scene, "geoWidth": 0.1}, 1.0, lambda p: calls.append(p["geoWidth"]) or 1.0)
    assert len(calls) == len(set(calls)) == sum(f < 1 for f in FACTORS)  # every factor > 1 clips to 0.1


def test_a_run_hands_over_the_target_width(scene: dict) -> None:
    """From the true scene with 2.5× its stroke, a short run at 96 px (where strokes are sub-pixel)
    ends at the target's width: the scan at the report's size finds it."""
    target = render(scene, W, H, "exact")
    final = refine_to_end(
        target, {**scene, "geoWidth": 0.03}, budget_evals=30, seed=0, working_width=96, budget_seconds=None
    )
    assert final.best_params["geoWidth"] == pytest.approx(0.012, abs=0.002)
    assert final.best_report["ssim"] > 0.97
