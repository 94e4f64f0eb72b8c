"""The polish at the report's size: coordinate descent that keeps only what scores better."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.params import sample_params
from core.refine import ParamSpace, Refiner
from core.refine.polish import polish
from core.render import render


@pytest.fixture(scope="module")
def scene() -> dict:
    return sample_params(30, seed=9000, mode="weighted", n_layers=0)[9]


def _distance_to(goal: dict):
    """A score that is the squared distance to `goal` in the search's coordinates."""
    space = ParamSpace(goal, effects=True)
    gx, gc = space.encode(goal)

    def score(params: dict) -> float:
        x, _ = space.encode(params)
        return float(((x - gx) ** 2).sum())

    return space, gx, gc, score


def _batch(score):
    return lambda batch: [score(p) for p in batch]


def test_polish_walks_towards_a_nearby_optimum_and_leaves_colour_alone(scene: dict) -> None:
    space, gx, gc, score = _distance_to(scene)
    moved = gx.copy()
    colour = [i for i, dim in enumerate(space.dims) if "color" in dim.path]
    others = [i for i in range(len(gx)) if i not in colour]
    moved[others[:3]] += 0.03
    moved[colour[0]] += 0.05
    start = space.decode(moved, gc)
    start_value = score(start)
    colour_part = score({**scene, "color": start["color"]})  # what the polish must leave in place
    best, value, spent = polish(start, start_value, _batch(score), max_evals=200)
    assert value - colour_part < 0.2 * (start_value - colour_part)
    assert 0 < spent <= 200
    assert best["color"] == start["color"]
    assert value == pytest.approx(score(best))


def test_polish_honours_its_evaluation_cap_and_stop(scene: dict) -> None:
    space, gx, gc, score = _distance_to(scene)
    start = space.decode(gx + 0.02, gc)
    calls: list[int] = []

    def counted(batch: list) -> list[float]:
        calls.extend([1] * len(batch))
        return [score(p) for p in batch]

    _, _, spent = polish(start, score(start), counted, max_evals=5)
    assert spent == len(calls) == 5
    calls.clear()
    _, value, spent = polish(start, score(start), counted, stop=lambda: len(calls) >= 4)
    assert spent == len(calls) == 4 and value <= score(start)  # two batches of a step up and down


def test_a_polished_run_ends_lower_at_full_size_than_the_same_run_without(scene: dict) -> None:
    """Same seed and evaluation budget, so the same search: only the polish differs."""
    target = render(scene, 320, 180, "exact")
    space = ParamSpace(scene)
    x, c = space.encode(scene)
    start = space.decode(x + np.random.default_rng(3).normal(0, 0.03, len(x)), c)
    options = dict(budget_evals=80, budget_seconds=None, working_width=96, seed=0, preview_every=10**9)
    values = {}
    for evals in (0, 40):
        refiner = Refiner(target, start, polish_evals=evals, **options)
        final = list(refiner.run())[-1]
        at_full = refiner.finish.loss_at_full
        values[evals] = at_full(final.best_params)
        assert final.evaluations == 80  # the polish's full-size renders are not search evaluations
        assert list(refiner.finish.images) == [json.dumps(final.best_params, sort_keys=True)]
    assert values[40] < values[0]


def test_the_polish_takes_the_end_of_a_time_budget(scene: dict) -> None:
    """With 4 s the search stops at 3.2 s (POLISH_SHARE 0.2) and the polish ends with the budget; the
    refiner says which stage it is in (the app shows "Finishing…" meanwhile)."""
    target = render(scene, 320, 180, "exact")
    refiner = Refiner(
        target, scene, budget_evals=None, budget_seconds=4.0, working_width=96, preview_every=10**9
    )
    assert refiner.stage == "ready"
    events, stages = [], []
    for event in refiner.run():
        events.append(event)
        stages.append(refiner.stage)
    assert set(stages[:-1]) == {"search"} and stages[-1] == "done"
    assert events[-1].stop_reason == "budget_seconds"
    assert events[-2].elapsed < 3.2 + 0.5  # the last search event
    assert events[-1].elapsed < 4.0 + 1.5  # the colour fit and the final report come after the budget
