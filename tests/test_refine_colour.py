"""Colour fitting: a scene drawn in the wrong colour comes back in the target's, brightness kept."""

from __future__ import annotations

import numpy as np

from core.refine import Refiner
from core.refine.colour import CLIPPED, fit_colour, light_chromaticity
from core.render import render

W, H = 160, 90
SCENE = {"geometry": "ring", "repetitions": 60, "scale": 0.8, "color": "#f5deb3", "alphaFactor": 0.6}


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], float)


def _draw(params: dict) -> np.ndarray:
    return render(params, W, H, quality="fast")


def test_chromaticity_of_light_and_of_black():
    cream = light_chromaticity(_draw(SCENE))
    green = light_chromaticity(_draw({**SCENE, "color": "#7fff7f"}))
    assert cream is not None and green is not None
    assert cream[0] > cream[2] and green[1] > 1.0 > green[0]  # cream leans red, green leans green
    assert light_chromaticity(np.zeros((H, W, 3), np.uint8)) is None


def test_a_green_scene_is_fitted_back_to_cream_with_its_brightness():
    target = _draw(SCENE)
    fitted = fit_colour({**SCENE, "color": "#9cf59c"}, target, _draw)
    assert np.abs(_rgb(fitted["color"]) - _rgb(SCENE["color"])).max() < 25  # within ~10 % per channel
    want, got = light_chromaticity(target), light_chromaticity(_draw(fitted))
    was = light_chromaticity(_draw({**SCENE, "color": "#9cf59c"}))
    # most of the way (a channel the held luminance pushes past 1 is clipped, so not all of it)
    assert np.abs(want - got).sum() < 0.3 * np.abs(want - was).sum()
    before = render({**SCENE, "color": "#9cf59c"}, W, H, quality="fast").astype(float)
    after = _draw(fitted).astype(float)
    lum = np.array([0.2126, 0.7152, 0.0722])
    assert abs((after @ lum).sum() / (before @ lum).sum() - 1) < 0.15  # brightness is left alone


def test_a_match_whose_glow_clips_to_white_is_fitted_on_the_rest_of_its_light():
    """A match denser than the design piles its light into a white core. Read with that core, the fit
    pushed a green start to a greenish cream (#ddeda8: green above red) to make up; read on the light
    that glow has not clipped, it comes back to the design's cream."""
    dense = {**SCENE, "repetitions": 200, "alphaFactor": 1.0, "color": "#9cf59c"}
    drawn = _draw(dense).astype(float) / 255
    lit = drawn.mean(axis=2) > 0.1
    assert (drawn.max(axis=2) >= CLIPPED)[lit].mean() > 0.5  # most of its light is clipped
    fitted = fit_colour(dense, _draw(SCENE), _draw)
    r, g, _ = _rgb(fitted["color"])
    assert r > g and np.abs(_rgb(fitted["color"]) - _rgb(SCENE["color"])).max() < 12


def test_layer_colours_move_with_the_main_colour():
    scene = {**SCENE, "color": "#9cf59c", "layers": [{"color": "#80ff80", "scale": {"x": -1, "y": 1}}]}
    fitted = fit_colour(scene, _draw(SCENE), _draw)
    assert fitted["layers"][0]["color"] != "#80ff80"
    r, g, _ = _rgb(fitted["layers"][0]["color"])
    assert r > 0.8 * g  # no longer green


def test_refinement_ends_in_the_target_colour():
    target = render(SCENE, 320, 180, "exact")
    refiner = Refiner(target, {**SCENE, "color": "#9cf59c"}, budget_evals=20, budget_seconds=None)
    fitted = refiner.finish.recoloured({**SCENE, "color": "#9cf59c"})
    assert np.abs(_rgb(fitted["color"]) - _rgb(SCENE["color"])).max() < 25
    right = refiner.finish.recoloured(SCENE)  # already the target's colour: (almost) nothing to move
    assert np.abs(_rgb(right["color"]) - _rgb(SCENE["color"])).max() <= 8


def test_a_start_kept_over_the_search_is_finished_too(monkeypatch):
    """When the start beats the search's best at the report's size, the start is handed over — with its
    colour fitted like any other result."""
    from collections import deque

    from core.refine.finish import Finish

    monkeypatch.setattr(Finish, "start_wins", lambda self, start, best: True)
    target = render(SCENE, 320, 180, "exact")
    green = {**SCENE, "color": "#9cf59c"}
    final = deque(Refiner(target, green, budget_evals=30, budget_seconds=None).run(), maxlen=1)[0]
    assert final.best_params["geometry"] == SCENE["geometry"]
    assert np.abs(_rgb(final.best_params["color"]) - _rgb(SCENE["color"])).max() < 25
