"""Fitting the post effects' settings at the report's size: the grain's numbers come back from the image."""

from __future__ import annotations

import numpy as np
import pytest

from core.imageio import resize, to_rgb_float
from core.params import sample_params
from core.refine import refine_to_end
from core.refine.effects import fit_effects
from core.refine.loss import make_loss
from core.refine.space import complete
from core.render import render
from core.render.effects import apply_effects

W, H = 320, 180
GRAIN = {"enabled": True, "density": 0.32, "opacity": 0.13, "size": 0.3}
DEFAULT_GRAIN = {"enabled": True, "density": 0.11, "opacity": 0.11, "size": 0.3}


@pytest.fixture(scope="module")
def scene() -> dict:
    return complete(sample_params(30, seed=9000, mode="weighted", n_layers=0)[9])


def test_the_grain_density_is_recovered_from_a_clean_render(scene: dict) -> None:
    """The truth's scene with the default grain settings: the fit finds the target's density (the hash
    lines up pixel for pixel at the target's size, so the density decides exactly which cells light)."""
    target = render({**scene, "noise": GRAIN}, W, H, "exact")
    loss = make_loss("ssim_lum", target, W)
    clean = render(scene, W, H, "exact")

    def score(params: dict) -> float:
        return loss(resize(to_rgb_float(apply_effects(clean, params["noise"], params["crt"])), W, H))

    start = {**scene, "noise": DEFAULT_GRAIN}
    fitted, value = fit_effects(start, score)
    assert value < 0.2 * score(start)
    assert abs(fitted["noise"]["density"] - GRAIN["density"]) < 0.02
    assert fitted["crt"] == start["crt"]  # off: not touched


def test_without_grain_nothing_is_fitted(scene: dict) -> None:
    """No grain: one score, params unchanged; a CRT keeps its settings (its fit paid in stripes, not
    likeness: see core.refine.effects)."""
    for params in (scene, complete({**scene, "crt": {"enabled": True, "bloom": 0.3}})):
        calls: list[dict] = []
        fitted, _ = fit_effects(params, lambda p: calls.append(p) or 1.0)  # noqa: B023 - used at once
        assert fitted == params and len(calls) == 1


def test_a_run_hands_over_the_target_grain(scene: dict) -> None:
    """A run from the true scene with the wrong grain settings: the 96-px search cannot read the grain,
    the end of the run must (the start's report on this target: ssim 0.88; the truth's: 1.00)."""
    target = render({**scene, "noise": GRAIN}, W, H, "exact")
    start = {**scene, "noise": DEFAULT_GRAIN}
    final = refine_to_end(target, start, budget_evals=30, seed=0, working_width=96, budget_seconds=None)
    assert abs(final.best_params["noise"]["density"] - GRAIN["density"]) < 0.02
    assert final.best_report["ssim"] > 0.98
    assert np.isfinite(final.best_loss)


def test_a_deadline_ends_the_fit_after_its_first_generations(scene: dict) -> None:
    """A short time budget: past the run's deadline the grain fit ends after MIN_GENERATIONS, not after
    all GENERATIONS (it made `core.refine --seconds 8` run 11 s on figma-00)."""
    from core.refine.effects import GENERATIONS, MIN_GENERATIONS

    start = {**scene, "noise": DEFAULT_GRAIN}
    counts = []
    for stop in (None, lambda: True):
        calls: list[dict] = []
        fit_effects(start, lambda p: calls.append(p) or float(p["noise"]["density"]), stop=stop)  # noqa: B023
        counts.append(len(calls))
    population = (counts[0] - 1) // GENERATIONS  # one score of the start, then generations × population
    assert counts == [1 + GENERATIONS * population, 1 + MIN_GENERATIONS * population]
