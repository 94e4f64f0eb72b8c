"""The refinement loop: improves, is seeded, streams events, honours budgets and cancel."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

from core.params import sample_params, validate
from core.refine import FlatTargetWarning, ParamSpace, ProgressEvent, Refiner, refine, refine_to_end
from core.refine.loss import Loss, make_loss
from core.render import render
from core.shared_pool import close_shared_pools, shared_pool

W, H = 96, 54
FAST = {
    "working_width": W,
    "preview_every": 40,
    "report_every": 60,
    "preview_width": 64,
    "budget_seconds": None,
    "polish_evals": 0,  # the polish has tests of its own (test_refine_polish.py)
}


@pytest.fixture(scope="module")
def scene() -> dict:
    """A known scene with light in a good part of the frame."""
    return sample_params(30, seed=9000, mode="weighted", n_layers=0)[9]


@pytest.fixture(scope="module")
def target(scene: dict) -> np.ndarray:
    return render(scene, W, H, "exact")


@pytest.fixture(scope="module")
def start(scene: dict) -> dict:
    """The true scene with its continuous coordinates nudged: a stand-in for a CNN prediction."""
    space = ParamSpace(scene)
    x, c = space.encode(scene)
    return space.decode(x + np.random.default_rng(5).normal(0, 0.03, len(x)), c)


def _events(**kw) -> list[ProgressEvent]:
    return list(refine(**kw))


def test_refine_improves_a_perturbed_start(target: np.ndarray, start: dict) -> None:
    events = _events(target=target, start_params=start, budget_evals=240, seed=0, **FAST)
    first, last = events[0], events[-1]
    assert first.evaluations == 1 and first.generation == 0
    assert last.done and last.stop_reason == "budget_evals" and last.evaluations == 240
    assert last.best_loss < 0.8 * first.best_loss
    assert validate(last.best_params) == last.best_params


def test_events_stream_as_documented(target: np.ndarray, start: dict) -> None:
    events = _events(target=target, start_params=start, budget_evals=150, seed=1, **FAST)
    assert [e.done for e in events].count(True) == 1 and events[-1].done
    evals = [e.evaluations for e in events]
    losses = [e.best_loss for e in events[:-1]]  # the final event may keep the start (see ProgressEvent)
    assert evals == sorted(evals) and losses == sorted(losses, reverse=True)
    assert all(e.batch_loss >= e.best_loss for e in events)
    assert [e.generation for e in events[1:-1]] == list(range(1, len(events) - 1))
    interim = [e for e in events[:-1] if e.best_report is not None]
    assert interim and interim[0].best_report["working_size"] == [W, H]
    assert events[-1].best_report["working_size"][0] == 512  # the full report at the end
    for key in ("ssim", "ssim_skill", "lum_corr"):
        assert -1.0 <= events[-1].best_report[key] <= 1.0
    previews = [e.preview for e in events if e.preview is not None]
    assert len(previews) >= 2 and events[-1].preview is not None
    assert all(p.dtype == np.uint8 and p.shape == (36, 64, 3) for p in previews)
    assert all(e.elapsed >= 0 for e in events) and events[-1].elapsed >= events[0].elapsed


def test_same_seed_same_best_with_one_or_two_workers(target: np.ndarray, start: dict) -> None:
    kw = {"target": target, "start_params": start, "budget_evals": 60, "final_report": False, **FAST}
    a = _events(seed=3, workers=1, **kw)[-1]
    b = _events(seed=3, workers=1, **kw)[-1]
    c = _events(seed=3, workers=2, **kw)[-1]
    d = refine_to_end(seed=4, workers=1, **kw)
    assert d.done
    assert a.best_params == b.best_params == c.best_params
    assert a.best_loss == b.best_loss == c.best_loss
    assert d.best_params != a.best_params


def test_spawned_workers_find_the_same_best_as_forked_ones(
    target: np.ndarray, start: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The designer's macOS spawns its scoring workers (core.workers.start_method): the scorer travels by
    pickle and each worker loads the renderer itself, with the same results as forked workers."""
    kw = {"target": target, "start_params": start, "budget_evals": 60, "final_report": False, **FAST}
    forked = _events(seed=3, workers=2, **kw)[-1]
    monkeypatch.setenv("BB_START_METHOD", "spawn")
    spawned = _events(seed=3, workers=2, **kw)[-1]
    assert spawned.best_params == forked.best_params and spawned.best_loss == forked.best_loss
    assert spawned.evaluations == forked.evaluations == 60


def test_runs_in_the_shared_pool_match_runs_in_their_own_and_keep_its_workers(
    target: np.ndarray, start: dict
) -> None:
    """The app's refines share one pool (core.shared_pool): the same results as a pool of the run's own,
    and the second run finds the first run's workers instead of starting its own."""
    kw = {"target": target, "start_params": start, "budget_evals": 60, "final_report": False, **FAST}
    own = _events(seed=3, workers=2, **kw)[-1]
    try:
        shared = [_events(seed=3, workers=2, shared_pool=True, **kw)[-1] for _ in range(2)]
        with shared_pool(2) as pool:
            pids = set(getattr(pool, "_processes", {}))  # ProcessPoolExecutor's workers, by pid
        again = _events(seed=3, workers=2, shared_pool=True, **kw)[-1]
        with shared_pool(2) as pool:
            assert len(pids) == 2 and set(getattr(pool, "_processes", {})) == pids
    finally:
        close_shared_pools()
    for run in (*shared, again):
        assert run.best_params == own.best_params and run.best_loss == own.best_loss


def test_cancel_stops_early_and_keeps_the_best(target: np.ndarray, start: dict) -> None:
    refiner = Refiner(target, start, budget_evals=10_000, seed=0, final_report=False, **FAST)
    events = []
    for event in refiner.run():
        events.append(event)
        if event.generation == 2:
            refiner.cancel()
    last = events[-1]
    assert last.done and last.stop_reason == "cancelled"
    assert last.evaluations < 100
    assert last.best_loss == min(e.best_loss for e in events)
    assert last.best_params == events[-2].best_params or last.best_loss < events[-2].best_loss


def test_a_cancelled_refiner_runs_again_in_full(target: np.ndarray, start: dict) -> None:
    """A cancel ends one run: running the Refiner again is a whole run (it was a cancelled one-evaluation
    event), and a cancel before a run still stops it at its start."""
    refiner = Refiner(target, start, budget_evals=120, seed=0, final_report=False, **FAST)
    for event in refiner.run():
        if event.generation == 1 and not event.done:
            refiner.cancel()
    assert event.done and event.stop_reason == "cancelled" and event.evaluations < 120
    again = list(refiner.run())[-1]
    assert again.done and again.stop_reason == "budget_evals" and again.evaluations == 120
    refiner.cancel()
    early = list(refiner.run())[-1]
    assert early.stop_reason == "cancelled" and early.evaluations == 1


def test_a_flat_target_is_warned_about_and_a_design_is_not(target: np.ndarray, start: dict) -> None:
    """A notebook caller refining a black image hears that no figure will mean anything (the app and the
    CLI say it before they refine); a design with light raises no warning."""
    with pytest.warns(FlatTargetWarning, match="one flat colour"):
        Refiner(np.zeros((54, 96, 3), np.uint8), start, budget_evals=10, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FlatTargetWarning)
        Refiner(target, start, budget_evals=10, **FAST)


def test_time_budget_is_respected(target: np.ndarray, start: dict) -> None:
    t0 = time.perf_counter()
    kw = {**FAST, "budget_seconds": 1.5}
    events = _events(target=target, start_params=start, budget_evals=None, final_report=False, **kw)
    wall = time.perf_counter() - t0
    assert events[-1].stop_reason == "budget_seconds"
    assert 1.5 <= events[-1].elapsed < 2.5 and wall < 3.5
    assert events[-1].evaluations > 10


@pytest.mark.parametrize("method", ["cma", "pycma"])
def test_cma_multistart_with_given_alternatives(target: np.ndarray, start: dict, method: str) -> None:
    alternatives = [start, {**start, "geometry": "ring"}, {**start, "origin": "top-left"}]
    events = _events(
        target=target, start_params=start, method=method, top_k=alternatives, budget_evals=150, **FAST
    )
    assert events[-1].done and events[-1].evaluations == 150
    assert events[-1].best_loss < events[0].best_loss


def test_without_start_params_the_best_sampler_draw_starts(target: np.ndarray) -> None:
    events = _events(target=target, start_params=None, n_init=12, budget_evals=40, final_report=False, **FAST)
    assert events[0].evaluations == 13  # the defaults, then the draws
    assert events[-1].evaluations == 40


def test_the_race_runs_the_rounds_it_is_given(target: np.ndarray, start: dict) -> None:
    space = ParamSpace(start, effects=True)
    for rounds in (3, 20):
        search = Refiner(target, start, top_k=[start, start], round_generations=rounds)._search(
            space, *space.encode(start)
        )
        assert search.round_generations == rounds


def test_restarts_search_each_segment_afresh_from_the_start_with_its_own_seed(
    target: np.ndarray, start: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.refine import refiner

    made: list[tuple[int, float]] = []
    real = refiner.make_search

    def recording(method, space, x0, c0, *args, seed, **kwargs):
        made.append((seed, float(np.abs(x0 - ParamSpace(start, effects=True).encode(start)[0]).max())))
        return real(method, space, x0, c0, *args, seed=seed, **kwargs)

    monkeypatch.setattr(refiner, "make_search", recording)
    twice = [_events(target=target, start_params=start, budget_evals=240, seed=7, restarts=2, **FAST)[-1]]
    assert [seed for seed, _ in made] == [7, refiner.segment_seed(7, 1)] and made[1][
        1
    ] < 1e-9  # from the start
    assert refiner.segment_seed(7, 1) not in (7, 8) and refiner.segment_seed(8, 1) != refiner.segment_seed(
        7, 1
    )
    made.clear()
    half = _events(target=target, start_params=start, budget_evals=120, seed=7, **FAST)[-1]
    assert [seed for seed, _ in made] == [7]
    twice.append(_events(target=target, start_params=start, budget_evals=240, seed=7, restarts=2, **FAST)[-1])
    assert twice[0].best_params == twice[1].best_params  # seeded: the same run twice
    assert twice[0].best_loss <= half.best_loss  # its first segment is that half-budget run, its best kept
    with pytest.raises(ValueError, match="restarts"):
        Refiner(target, start, restarts=0)


def test_loss_options_weigh_the_working_and_the_full_size_loss(target: np.ndarray, start: dict) -> None:
    plain = Refiner(target, start)
    weighted = Refiner(target, start, loss_options={"w_lum": 3.0})
    for a, b in ((plain.loss, weighted.loss), (plain.finish.full_loss, weighted.finish.full_loss)):
        candidate = render(start, *a.size, "exact")
        lum_gap = 1.0 - a.terms(candidate)["lum_corr"]
        assert lum_gap > 0.01 and b(candidate) == pytest.approx(a(candidate) + 2.0 * lum_gap)
    with pytest.raises(ValueError, match="loss_options"):
        Refiner(target, start, loss=plain.loss, loss_options={"w_lum": 3.0})


def test_bad_arguments_raise(target: np.ndarray) -> None:
    with pytest.raises(ValueError, match="method"):
        Refiner(target, method="nope")
    with pytest.raises(ValueError, match="budget"):
        Refiner(target, budget_evals=None, budget_seconds=None)
    with pytest.raises(ValueError, match="round_generations"):
        Refiner(target, round_generations=0)


def test_effects_the_match_does_not_need_are_switched_off(scene: dict) -> None:
    """Against a clean target a CRT grille and grain are dropped; against a target that has the CRT it
    stays (judged at the report's 512 px, where a grille cannot pass for a blur)."""
    crt = {"enabled": True, "mask": "grille", "maskStrength": 1.0, "scanlines": 0.8, "bloom": 0.3}
    effects = validate({**scene, "crt": crt, "noise": {"enabled": True, "opacity": 0.5, "density": 0.5}})
    clean = Refiner(render(scene, 320, 180, "exact"), scene, **FAST)
    plain = clean.finish.simplified(effects)
    assert not plain["crt"]["enabled"] and not plain["noise"]["enabled"]
    assert clean.finish.simplified(scene) is scene  # nothing on: nothing to do
    with_crt = validate({**scene, "crt": crt})
    kept = Refiner(render(with_crt, 320, 180, "exact"), with_crt, **FAST).finish.simplified(with_crt)
    assert kept["crt"]["enabled"]


def test_the_end_of_a_run_judges_grain_as_the_report_does(scene: dict) -> None:
    """A grainy target smaller than 512 px: its own params must score as a perfect match in the 512-px
    checks at the end of a run (drawn at 512 px directly, the grain was another pattern: loss ≈ 1), and a
    run started from them must hand them over, not params the 96-px loss merely preferred."""
    noisy = {**scene, "noise": {"enabled": True, "density": 0.5, "opacity": 0.3, "size": 0.3}}
    target = render(noisy, 320, 180, "exact")
    refiner = Refiner(target, noisy, budget_evals=60, seed=0, **FAST)
    at_full = refiner.finish.loss_at_full
    assert at_full(noisy) < 1e-3
    final = refine_to_end(target, noisy, budget_evals=60, seed=0, **FAST)
    assert final.best_report["lum_corr"] > 0.999 and final.best_report["ssim"] > 0.999


def test_the_end_of_a_run_draws_each_full_size_image_once(
    scene: dict, start: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The end-of-run checks and the final report draw the same handed-over params: one render each."""
    import json

    import core.refine.finish as finish_module

    target = render(scene, 320, 180, "exact")
    drawn: list[str] = []

    def counting_render(params: dict, width: int, height: int, quality: str = "exact") -> np.ndarray:
        if (width, quality) == (320, "exact"):
            drawn.append(json.dumps(params, sort_keys=True))
        return render(params, width, height, quality)

    monkeypatch.setattr(finish_module, "render", counting_render)
    final = refine_to_end(target, start, budget_evals=60, seed=0, **{**FAST, "polish_evals": 30})
    assert json.dumps(final.best_params, sort_keys=True) in drawn
    assert len(drawn) == len(set(drawn))


def test_refine_to_end_shows_every_event(scene: dict, start: dict) -> None:
    target = render(scene, 320, 180, "exact")
    seen: list[ProgressEvent] = []
    final = refine_to_end(target, start, budget_evals=40, seed=0, on_event=seen.append, **FAST)
    assert seen[-1] is final and final.done and not any(e.done for e in seen[:-1])
    assert [e.evaluations for e in seen] == sorted(e.evaluations for e in seen)


def test_a_finished_run_keeps_only_the_handed_over_image(scene: dict, start: dict) -> None:
    """The finish draws a dozen full-size images (stroke widths, effects); after the run only the
    handed-over params' image stays with the Refiner, which the app's session may keep for a while."""
    import json

    target = render(scene, 320, 180, "exact")
    refiner = Refiner(target, start, budget_evals=60, seed=0, **{**FAST, "polish_evals": 30})
    final = list(refiner.run())[-1]
    assert list(refiner.finish.images) == [json.dumps(final.best_params, sort_keys=True)]


def test_a_run_scores_on_one_blas_thread_and_lifts_the_limit_between_events(
    target: np.ndarray, start: dict
) -> None:
    """core.workers.one_blas_thread: spinning BLAS threads took a core from the scoring; the limit holds
    while the run computes and is lifted while the caller holds an event."""
    from threadpoolctl import threadpool_info

    def blas_threads() -> set[int]:
        return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}

    outside = blas_threads()
    if not outside or outside == {1}:
        pytest.skip("BLAS runs on one thread here already: nothing to tell apart")
    inside: list[set[int]] = []

    class Spy:
        """The run's loss, noting the BLAS threads each time it scores."""

        def __init__(self, inner: Loss) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        def __call__(self, image: np.ndarray) -> float:
            inside.append(blas_threads())
            return self.inner(image)

    spy = Spy(make_loss("ssim_lum", target, W))
    refiner = Refiner(target, start, budget_evals=40, final_report=False, workers=1, loss=spy, **FAST)
    for _event in refiner.run():
        assert blas_threads() == outside
    assert len(inside) >= 40
    assert all(threads == {1} for threads in inside)


def test_a_run_abandoned_after_its_first_event_shuts_its_pool(target: np.ndarray, start: dict) -> None:
    import multiprocessing

    events = Refiner(target, start, budget_evals=400, final_report=False, workers=2, **FAST).run()
    next(events)  # the start, scored in this process
    next(events)  # the first generation, scored in the pool
    assert multiprocessing.active_children()
    events.close()
    assert not multiprocessing.active_children()


@pytest.mark.parametrize(
    ("evals", "seconds", "words"),
    [
        (0, None, "budget_evals must be a whole number ≥ 1"),  # 0 and −5 ran one evaluation
        (-5, None, "budget_evals must be"),
        (2.5, None, "budget_evals must be"),  # a TypeError inside the search
        (None, 0, "budget_seconds must be a number > 0"),
        (None, -1.0, "budget_seconds must be"),
        (None, float("nan"), "budget_seconds must be"),
    ],
)
def test_budgets_out_of_range_are_refused(evals: object, seconds: object, words: str) -> None:
    target = render({"geometry": "ring"}, 64, 36, quality="draft")
    with pytest.raises(ValueError, match=words):
        Refiner(target, {"geometry": "ring"}, budget_evals=evals, budget_seconds=seconds, workers=1)
