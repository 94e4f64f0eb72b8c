"""The ask/tell optimisers on a cheap synthetic loss over a real ParamSpace (no rendering)."""

from __future__ import annotations

import numpy as np
import pytest

from core.params import sample_params
from core.refine import CatCMASearch, MultiStartCMA, ParamSpace
from core.refine.catcma import categorical_prior
from core.refine.multistart import neighbours


@pytest.fixture(scope="module")
def problem() -> tuple[ParamSpace, np.ndarray, np.ndarray]:
    """A space and a hidden optimum (x*, c*) the toy loss is centred on."""
    scene = sample_params(1, seed=11, mode="weighted", n_layers=0)[0]
    space = ParamSpace(scene)
    x, c = space.encode(scene)
    return space, x, c


def toy_loss(space: ParamSpace, x_opt: np.ndarray, c_opt: np.ndarray, x: np.ndarray, c: np.ndarray) -> float:
    return float(np.sum((x - x_opt) ** 2) + 0.5 * np.sum(c != c_opt))


def _optimise(search, space, x_opt, c_opt, generations: int) -> float:
    best = np.inf
    for _ in range(generations):
        batch = search.ask()
        losses = [toy_loss(space, x_opt, c_opt, cand.x, cand.c) for cand in batch]
        search.tell(losses)
        best = min(best, *losses)
    return best


def test_catcma_finds_continuous_and_categorical_optimum(problem) -> None:
    space, x_opt, c_opt = problem
    rng = np.random.default_rng(0)
    x0 = np.clip(x_opt + rng.normal(0, 0.1, len(x_opt)), 0, 1)
    c0 = c_opt.copy()
    c0[0] = (c0[0] + 1) % space.cat_num[0]  # one wrong categorical to fix
    start = toy_loss(space, x_opt, c_opt, x0, c0)
    search = CatCMASearch(space, x0, c0, sigma=0.05, seed=0)
    assert _optimise(search, space, x_opt, c_opt, 120) < 0.05 * start
    assert search.best[2][0] == c_opt[0]


def test_multistart_screens_the_categoricals_then_descends(problem) -> None:
    space, x_opt, c_opt = problem
    c0 = c_opt.copy()
    c0[0] = (c0[0] + 1) % space.cat_num[0]
    x0 = np.clip(x_opt + 0.05, 0, 1)
    search = MultiStartCMA(space, x0, c0, top_k=3, sigma=0.05, seed=0)
    screen = search.ask()
    assert len(screen) == 1 + int(np.sum(space.cat_num - 1))  # the start and every one-option change
    search.tell([toy_loss(space, x_opt, c_opt, cand.x, cand.c) for cand in screen])
    assert len(search.runs) == 3
    assert any(np.array_equal(run.c, c_opt) for run in search.runs)  # the fix is among the starts
    best = _optimise(search, space, x_opt, c_opt, 150)
    assert best < 0.05 * toy_loss(space, x_opt, c_opt, x0, c0)
    assert len(search.runs) == 1  # successive halving left one run


def test_neighbours_and_categorical_prior(problem) -> None:
    space, _, c = problem
    near = neighbours(space, c)
    assert all(np.sum(n != c) == 1 for n in near[1:]) and np.array_equal(near[0], c)
    q = categorical_prior(space.cat_num, [c], 0.6)
    np.testing.assert_allclose(q.sum(axis=1), 1.0)
    for i, k in enumerate(space.cat_num):
        assert q[i, c[i]] == pytest.approx(max(0.6, 1 / k)) and np.all(q[i, k:] == 0)
    alt = c.copy()
    alt[0] = (alt[0] + 1) % space.cat_num[0]
    mix = categorical_prior(space.cat_num, [c, alt], 0.6)
    assert mix[0, c[0]] == pytest.approx(0.3) and mix[0, alt[0]] == pytest.approx(0.3)
    np.testing.assert_allclose(
        categorical_prior(space.cat_num, [c], None)[0, : space.cat_num[0]], 1 / space.cat_num[0]
    )


def test_alternative_starts_from_ranked_categoricals() -> None:
    from core.refine import alternative_starts

    params = sample_params(1, seed=2, mode="weighted", n_layers=0)[0]
    params["geometry"], params["origin"] = "ring", "center"
    ranked = {
        "geometry": [("ring", 0.6), ("arch", 0.3), ("wave", 0.05)],
        "origin": [("center", 0.8), ("top-center", 0.15)],
        "layerMode": [("mirror", 0.9), ("none", 0.1)],  # not a main categorical: ignored
    }
    starts = alternative_starts(params, ranked, k=3)
    assert starts[0] == params
    assert [(s["geometry"], s["origin"]) for s in starts[1:]] == [("arch", "center"), ("ring", "top-center")]
    assert len(alternative_starts(params, ranked, k=10)) == 4  # start + the three real swaps


def test_multistart_from_full_starts_races_each_from_its_own_point(problem) -> None:
    """(x, c) starts (retrieved neighbours) each begin at their own continuous point, and the race keeps
    the one that is really closest."""
    space, x_opt, c_opt = problem
    rng = np.random.default_rng(3)
    far = (np.clip(rng.random(len(x_opt)), 0, 1), c_opt.copy())
    near = (np.clip(x_opt + 0.02, 0, 1), c_opt.copy())
    search = MultiStartCMA(space, x_opt, c_opt, starts=[far, near], top_k=2, sigma=0.02, seed=0)
    near_run = search.runs[1]
    first = search.ask()
    centre = np.mean([cand.x for cand in first], axis=0)
    assert np.abs(centre - far[0]).max() < 0.1  # the first run samples around its own start
    search.tell([toy_loss(space, x_opt, c_opt, cand.x, cand.c) for cand in first])
    second = search.ask()
    assert np.abs(np.mean([cand.x for cand in second], axis=0) - near[0]).max() < 0.1
    search.tell([toy_loss(space, x_opt, c_opt, cand.x, cand.c) for cand in second])
    _optimise(search, space, x_opt, c_opt, 120)
    assert search.runs == [near_run]


def test_sweeps_let_a_start_change_the_categoricals_it_holds(problem) -> None:
    """A start whose categoricals are wrong in two places ends with them right: every `sweep_every`
    generations its best point is scored with each one-categorical change and the better one is kept."""
    space, x_opt, c_opt = problem
    c0 = c_opt.copy()
    for i in (0, 1):
        c0[i] = (c0[i] + 1) % space.cat_num[i]
    x0 = np.clip(x_opt + 0.03, 0, 1)
    fixed = MultiStartCMA(space, x0, c0, starts=[(x0, c0)], sigma=0.03, seed=0, sweep_every=None)
    swept = MultiStartCMA(space, x0, c0, starts=[(x0, c0)], sigma=0.03, seed=0, sweep_every=10)
    _optimise(fixed, space, x_opt, c_opt, 60)
    assert not np.array_equal(fixed.runs[0].c, c_opt)  # without sweeps they never move
    sizes = []
    for _ in range(60):
        batch = swept.ask()
        sizes.append(len(batch))
        swept.tell([toy_loss(space, x_opt, c_opt, cand.x, cand.c) for cand in batch])
    assert np.array_equal(swept.runs[0].c, c_opt)
    sweep_size = int(np.sum(space.cat_num - 1))
    assert sizes.count(sweep_size) >= 2  # sweep batches: every one-option change of the leader


def test_category_swaps_change_exactly_one_main_choice() -> None:
    from core.params import MAIN_PARAMS
    from core.refine.alternatives import category_swaps
    from core.refine.space import MAIN_CHOICES

    scene = sample_params(1, seed=12, mode="weighted", n_layers=0)[0]
    swaps = category_swaps(scene)
    sizes = {p.name: len(p.options or (True, False)) for p in MAIN_PARAMS if p.name in MAIN_CHOICES}
    assert len(swaps) == sum(n - 1 for n in sizes.values())
    for label, params in swaps:
        changed = [k for k in MAIN_CHOICES if params[k] != scene[k]]
        assert changed == [label.split("=")[0]]
