"""core.refine.mirror: the mirror copies of a match across the screen's axes, and the run that adds them."""

from __future__ import annotations

import numpy as np
import pytest

from core.params import sample_params
from core.refine import Refiner
from core.refine.mirror import MAX_LAYERS, completion, lacks, mirror_completed, symmetry
from core.render import render

HIDDEN = {"position": {"x": 0.0, "y": 0.0}, "rotation": 0.0, "scale": {"x": 0.0, "y": 0.0}}
"""A layer that draws nothing: without it an empty `layers` would draw the renderer's default copy."""


def _lone_trail(rotation: float) -> dict:
    """An off-centre, turned scene with its main layer alone: no symmetry of its own."""
    params = sample_params(40, seed=9000, mode="weighted", n_layers=0)[28]
    return {**params, "rotation": rotation, "position": {"x": 0.35, "y": -0.2}, "layers": [dict(HIDDEN)]}


@pytest.mark.parametrize("axis", ["left-right", "top-bottom"])
@pytest.mark.parametrize("rotation", [0.0, 0.4])
def test_the_completed_scene_is_its_own_mirror_image(axis: str, rotation: float) -> None:
    """The copy is the main layer's reflection across the screen's axis, whatever the scene's rotation."""
    scene = _lone_trail(rotation)
    before = render(scene, 256, 144, "exact").astype(float).mean(axis=2)
    completed = mirror_completed(scene, axis)
    assert completed is not None and len(completed["layers"]) == 2
    image = render(completed, 256, 144, "exact").astype(float).mean(axis=2)
    flipped = image[:, ::-1] if axis == "left-right" else image[::-1]
    assert np.corrcoef(image.ravel(), flipped.ravel())[0, 1] > 0.99
    own = before[:, ::-1] if axis == "left-right" else before[::-1]
    assert np.corrcoef(before.ravel(), own.ravel())[0, 1] < 0.3  # the scene alone was not symmetric


def test_a_scene_lacks_a_flip_until_it_is_completed_under_it() -> None:
    scene = _lone_trail(0.4)
    assert lacks(scene, "left-right") and lacks(scene, "top-bottom")
    completed = mirror_completed(scene, "left-right")
    assert not lacks(completed, "left-right")
    assert lacks(completed, "top-bottom")
    both = mirror_completed(completed, "top-bottom")
    assert not lacks(both, "left-right") and not lacks(both, "top-bottom")  # four copies: closed under both


def test_completion_takes_the_target_s_flips_only_and_keeps_to_the_layer_limit() -> None:
    scene = _lone_trail(0.0)
    assert completion(scene, {"left-right": 0.6, "top-bottom": 0.2}) is None  # the target is not symmetric
    axis, completed = completion(scene, {"left-right": 0.86, "top-bottom": 0.95})
    assert axis == "top-bottom" and len(completed["layers"]) == 2  # the more symmetric flip first
    assert completion(completed, {"left-right": 0.2, "top-bottom": 0.95}) is None  # nothing lacking
    crowded = {**scene, "layers": [dict(HIDDEN)] + [{**HIDDEN, "scale": {"x": 1.0, "y": 1.0}}] * 3}
    assert len(crowded["layers"]) + 4 > MAX_LAYERS
    assert completion(crowded, {"left-right": 0.9}) is None


def test_symmetry_reads_a_flip_of_the_light() -> None:
    image = render(mirror_completed(_lone_trail(0.0), "left-right"), 192, 108, "exact")
    found = symmetry(image)
    assert found["left-right"] > 0.95 and found["top-bottom"] < found["left-right"]


def test_a_run_adds_the_copies_its_symmetric_target_shows() -> None:
    """Halfway through, the best match gets the copy; the search goes on from the completed scene."""
    scene = _lone_trail(0.0)
    target = render(mirror_completed(scene, "left-right"), 96, 54, "exact")
    kw = {"budget_evals": 200, "budget_seconds": None, "working_width": 96, "polish_evals": 0}
    kw |= {"final_report": False, "seed": 0}
    refiner = Refiner(target, scene, mirror_completion=True, **kw)
    *_, last = refiner.run()
    assert refiner.completed_axis == "left-right"
    assert last.evaluations == 200
    assert len(last.best_params["layers"]) == 2  # the copy won: the target cannot be drawn without it
    plain = Refiner(target, scene, mirror_completion=False, **kw)
    *_, other = plain.run()
    assert plain.completed_axis is None and len(other.best_params["layers"]) == 1
    assert last.best_loss < other.best_loss
