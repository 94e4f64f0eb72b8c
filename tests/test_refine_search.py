"""The ask/tell optimisers on a cheap synthetic loss over a real ParamSpace (no rendering)."""

from __future__ import annotations

import numpy as np
import pytest

from core.params import sample_params
from core.refine import CatCMASearch, MultiStartCMA, ParamSpace
from core.refine.catcma import categorical_prior
from core.refine.multistart import ROUND_GENERATIONS, STALL_GENERATIONS, TRIAL_GENERATIONS, neighbours


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


@pytest.mark.parametrize("engine", ["cmaes", "pycma"])
def test_multistart_engines_descend_and_repeat(problem, engine: str) -> None:
    """Either CMA-ES library drives the same race; a seed gives the same generations twice."""
    space, x_opt, c_opt = problem
    x0 = np.clip(x_opt + 0.05, 0, 1)

    def first_generations(seed: int) -> list[np.ndarray]:
        search = MultiStartCMA(space, x0, c_opt, starts=[c_opt], sigma=0.05, seed=seed, engine=engine)
        xs = []
        for _ in range(3):
            batch = search.ask()
            xs += [cand.x for cand in batch]
            search.tell([toy_loss(space, x_opt, c_opt, cand.x, cand.c) for cand in batch])
        return xs

    np.testing.assert_array_equal(first_generations(1), first_generations(1))
    assert not np.array_equal(first_generations(1)[-1], first_generations(2)[-1])
    search = MultiStartCMA(space, x0, c_opt, starts=[c_opt], sigma=0.05, seed=0, engine=engine)
    start = toy_loss(space, x_opt, c_opt, x0, c_opt)
    assert _optimise(search, space, x_opt, c_opt, 150) < 0.01 * start


def test_multistart_rejects_an_unknown_engine(problem) -> None:
    space, x, c = problem
    with pytest.raises(ValueError, match="pycma"):
        MultiStartCMA(space, x, c, starts=[c], engine="nevergrad")


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


def test_a_protected_start_runs_to_the_end_beside_the_leader(problem) -> None:
    """`protected`: the halving keeps that start however far behind it is; the others still go."""
    space, x_opt, c_opt = problem
    rng = np.random.default_rng(4)
    starts = [(np.clip(x_opt + 0.02 * (i + 1), 0, 1), c_opt.copy()) for i in range(3)]
    starts.append((np.clip(rng.random(len(x_opt)), 0, 1), c_opt.copy()))  # far off: dropped first
    unprotected = MultiStartCMA(space, x_opt, c_opt, starts=starts, top_k=4, sigma=0.02, seed=0)
    search = MultiStartCMA(space, x_opt, c_opt, starts=starts, top_k=4, sigma=0.02, seed=0, protected=[3])
    far = search.runs[3]
    _optimise(unprotected, space, x_opt, c_opt, 120)
    _optimise(search, space, x_opt, c_opt, 120)
    assert len(unprotected.runs) == 1 and unprotected.runs[0].best[0] < far.best[0]
    assert len(search.runs) == 2 and far in search.runs and far not in search.dropped
    assert len(search.dropped) == 2


def test_round_generations_sets_when_the_race_halves(problem) -> None:
    """Each surviving start runs `round_generations` generations per round; then the worse half goes."""
    space, x_opt, c_opt = problem
    starts = [(np.clip(x_opt + 0.02 * (i + 1), 0, 1), c_opt.copy()) for i in range(4)]
    for rounds in (2, 5):
        search = MultiStartCMA(
            space,
            x_opt,
            c_opt,
            starts=starts,
            top_k=4,
            sigma=0.02,
            seed=0,
            round_generations=rounds,
            sweep_every=None,
        )
        sizes = []
        for _ in range(4 * rounds + 2 * rounds):  # two rounds: 4 starts, then 2
            batch = search.ask()
            search.tell([toy_loss(space, x_opt, c_opt, cand.x, cand.c) for cand in batch])
            sizes.append(len(search.runs))
        assert sizes[4 * rounds - 2] == 4 and sizes[4 * rounds - 1] == 2  # halved after `rounds` each
        assert sizes[-2] == 2 and sizes[-1] == 1
    with pytest.raises(ValueError, match="round_generations"):  # a race that would never halve
        MultiStartCMA(space, x_opt, c_opt, starts=starts, round_generations=0)


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


def test_a_dropped_start_resumes_when_the_lone_leader_stalls(problem) -> None:
    """Two basins told apart by the first categorical: the race's winner after its 8 generations sits in
    the shallow one (floor 0.5), the dropped start in the deep one (floor 0) but further from its floor.
    Without trials the race ends at the shallow floor; with them the dropped start resumes once the
    leader stalls, taking turns with it, and takes over."""
    space, x_opt, c_opt = problem
    c_deep = c_opt.copy()
    c_deep[0] = (c_deep[0] + 1) % space.cat_num[0]

    def two_basins(x: np.ndarray, c: np.ndarray) -> float:
        d = float(np.sum((x - x_opt) ** 2))
        return d if c[0] == c_deep[0] else 0.5 + d

    shallow = (np.clip(x_opt + 0.01, 0, 1), c_opt.copy())
    deep = (np.where(x_opt < 0.5, x_opt + 0.3, x_opt - 0.3), c_deep)
    assert two_basins(*deep) > two_basins(*shallow)

    def run(**kw) -> tuple[float, MultiStartCMA, list[bool]]:
        search = MultiStartCMA(
            space, x_opt, c_opt, starts=[shallow, deep], sigma=0.02, seed=0, sweep_every=None, **kw
        )
        best, deep_turns = np.inf, []
        for _ in range(400):
            batch = search.ask()
            deep_turns.append(bool(batch[0].c[0] == c_deep[0]))
            losses = [two_basins(cand.x, cand.c) for cand in batch]
            search.tell(losses)
            best = min(best, *losses)
        return best, search, deep_turns

    without, plain, _ = run(stall_generations=None)
    assert without >= 0.5 and plain.runs[0].c[0] == c_opt[0]
    assert plain.dropped and plain.dropped[0].c[0] == c_deep[0]  # the deep start was dropped, not lost
    with_trials, tried, deep_turns = run(stall_generations=STALL_GENERATIONS)
    assert with_trials < 0.1
    assert tried.runs[0].c[0] == c_deep[0] and not tried.dropped
    race = 2 * ROUND_GENERATIONS  # both starts' rounds, in turn, before the halving
    resumed = deep_turns.index(True, race)
    assert resumed >= race + STALL_GENERATIONS  # the leader ran alone until it stalled
    assert deep_turns[resumed : resumed + 2 * TRIAL_GENERATIONS - 1] == [True, False] * (
        TRIAL_GENERATIONS - 1
    ) + [True]


def test_the_refiner_switches_trials_on_for_cma_only(problem) -> None:
    from core.refine import Refiner

    space, x, c = problem
    target = np.zeros((32, 32, 3), np.uint8)
    target[8:24, 8:24] = 200  # some light: a flat target draws a FlatTargetWarning
    start = space.decode(x, c)
    on = Refiner(target, start, trials=True)._search(space, x, c)
    off = Refiner(target, start)._search(space, x, c)
    assert on.stall_generations == STALL_GENERATIONS and off.stall_generations is None
    assert isinstance(Refiner(target, start, method="catcma", trials=True)._search(space, x, c), CatCMASearch)
