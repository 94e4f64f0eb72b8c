"""Exploration: finds → gallery + seeds with lineage, judge failures, resume by replay, novelty pressure.

Runs on a deterministic stub judge (how much of the image is lit) at 64×36, so each run takes ~1 s.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.explore import (
    ExploreConfig,
    ExploreError,
    Explorer,
    ExtractorChoice,
    FindArchive,
    SeedError,
    cnn_extractor,
    default_extractor,
    descriptor,
    distance,
    distinct,
    diversity,
    read_params,
    seed_from_image,
)
from core.imageio import load_image, to_uint8
from core.judge import Judge, JudgeContext, JudgeFailure, Judgement, Preference
from core.params import defaults, validate
from core.store import Store

SMALL = {"width": 64, "height": 36, "workers": 1}
NO_EXTRACTION = ExtractorChoice(None, "extraction skipped: test")
DIM_SEED = {**defaults(), "repetitions": 8}
"""Lights ~4 % of a 64×36 frame: the stub judge scores it ≈ 6, so a find has to be searched for."""


class LitJudge(Judge):
    """Score 10 at `target` lit fraction (pixels brighter than 10 %), falling 30 points per unit away.

    fail_every k: every k-th call raises JudgeFailure (an unparseable answer). on_call(n): called before
    the n-th judgement (tests cancel a run from there, as another thread would).
    """

    name = "stub:lit"

    def __init__(
        self, target: float = 0.12, fail_every: int = 0, on_call: Callable[[int], None] | None = None
    ) -> None:
        self.target, self.fail_every, self.on_call = target, fail_every, on_call
        self.calls = 0
        self.prepared = 0

    @classmethod
    def from_spec(cls, arg: str, **options: Any) -> LitJudge:
        return cls(**options)

    def prepare(self, context: JudgeContext | None = None) -> None:
        self.prepared += 1

    def score(self, image: Any, context: JudgeContext | None = None) -> Judgement:
        self.calls += 1
        if self.on_call is not None:
            self.on_call(self.calls)
        if self.fail_every and self.calls % self.fail_every == 0:
            raise JudgeFailure(self.name, "no score in the answer", ["what a lovely ring", "3/10?!"])
        lit = float((np.asarray(image).max(axis=2) > 25).mean())
        value = float(np.clip(10.0 - 30.0 * abs(lit - self.target), 1.0, 10.0))
        return Judgement(round(value, 4), f"lit {lit:.3f}", self.name, raw=f"{lit:.5f}")

    def compare(self, candidate: Any, incumbent: Any, context: JudgeContext | None = None) -> Preference:
        raise NotImplementedError


def marked_extractor(image: np.ndarray) -> dict[str, Any]:
    """A stand-in for the inverse model: valid params that record the image's mean brightness."""
    return validate({**defaults(), "repetitions": 40, "alphaFactor": round(float(image.mean()) / 255, 3)})


def explore(store: Store, judge: Judge, seed_id: int, **config: Any) -> tuple[Explorer, list[Any]]:
    extractor = config.pop("extractor", NO_EXTRACTION)
    explorer = Explorer.start(
        store, judge, seed_id, ExploreConfig(**{**SMALL, **config}), extractor=extractor
    )
    return explorer, list(explorer.run())


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "data") as s:
        yield s


def test_finds_reach_the_gallery_and_become_seeds_with_lineage(store: Store) -> None:
    seed_id = store.add_seed(DIM_SEED, source="manual")
    judge = LitJudge()
    explorer, events = explore(store, judge, seed_id, evals=60, extractor=marked_extractor)
    final = events[-1]
    assert final.done and final.stop_reason == "budget" and final.evaluations == 60
    assert events[0].latest[0].score is not None and events[0].latest[0].score < 9  # the seed is no find
    assert final.best_score is not None and final.best_score >= 9
    assert judge.calls == 60 and judge.prepared == 1
    run = store.get_run(final.run_id)
    assert run.status == "done" and run.progress["evaluations"] == 60 and run.progress["done"]

    gallery = [r for r in store.gallery() if r.run_id == final.run_id]
    assert gallery and len(gallery) == len(final.finds)
    for rating in gallery:
        assert rating.score >= 9 and rating.judge == "stub:lit" and rating.rationale.startswith("lit ")
        assert store.image_path(rating).is_file()
        validate(rating.params)

    promoted = [f for f in final.finds if f.seed_id is not None]
    assert promoted and all(f.source == "cnn" for f in promoted)
    for find in promoted:
        seed = store.get_seed(find.seed_id)
        image = to_uint8(load_image(store.image_path(store.get_rating(find.rating_id))))
        assert seed.source == "cnn" and seed.parent_id == seed_id and seed.rating_id == find.rating_id
        assert seed.params == marked_extractor(image)  # the extraction of the find's own render
    assert store.lineage(promoted[0].seed_id)[-1].id == seed_id
    # near-duplicates stay in the gallery but are not promoted: promoted finds are pairwise distinct
    descs = [descriptor(load_image(store.image_path(store.get_rating(f.rating_id)))) for f in promoted]
    assert distinct(descs, explorer.config.duplicate_radius) == len(descs)


def test_without_an_inverse_model_finds_are_stored_with_their_own_params(store: Store) -> None:
    seed_id = store.add_seed(DIM_SEED, source="manual")
    _, events = explore(store, LitJudge(), seed_id, evals=60)
    final = events[-1]
    assert final.extraction.startswith("extraction skipped")
    find = next(f for f in final.finds if f.seed_id is not None)
    seed, rating = store.get_seed(find.seed_id), store.get_rating(find.rating_id)
    assert find.source == seed.source == "explore" and seed.parent_id == seed_id
    assert seed.params == rating.params and "extraction skipped" in (seed.notes or "")


def test_a_repeated_run_adds_no_seed_the_pool_already_holds(store: Store) -> None:
    """The same run twice (same rng seed, as the CLI's default) finds the same designs: the second adds
    them to the gallery again but not to the pool (three runs used to leave 54 seeds, 18 distinct)."""
    seed_id = store.add_seed(DIM_SEED, source="manual")
    first = explore(store, LitJudge(), seed_id, evals=40)[1][-1]
    seeds = len(store.seeds())
    second = explore(store, LitJudge(), seed_id, evals=40)[1][-1]
    assert len(first.finds) == len(second.finds) > 0 and seeds > 1
    assert all(f.seed_id is None for f in second.finds) and len(store.seeds()) == seeds


def test_a_failing_extraction_still_stores_the_find_as_a_seed(store: Store) -> None:
    def broken(image: np.ndarray) -> dict[str, Any]:
        raise RuntimeError("model exploded")

    seed_id = store.add_seed(DIM_SEED, source="manual")
    _, events = explore(store, LitJudge(), seed_id, evals=40, extractor=broken)
    find = next(f for f in events[-1].finds if f.seed_id is not None)
    seed = store.get_seed(find.seed_id)
    assert find.source == seed.source == "explore" and seed.rating_id == find.rating_id
    assert "extraction failed: RuntimeError: model exploded" in (seed.notes or "")


def test_judge_failures_are_recorded_as_none_never_as_scores(store: Store) -> None:
    seed_id = store.add_seed(DIM_SEED, source="manual")
    _, events = explore(store, LitJudge(fail_every=3), seed_id, evals=30, novelty=0.0)
    ratings = store.ratings(events[-1].run_id)
    failed = [r for r in ratings if r.score is None]
    assert len(ratings) == 30 and [r.step for r in failed] == [2, 5, 8, 11, 14, 17, 20, 23, 26, 29]
    assert all("no usable answer" in r.rationale and json.loads(r.raw)[-1] == "3/10?!" for r in failed)
    assert all(r.score is None for r in store.ratings(events[-1].run_id) if r.step in {2, 5})
    told = [e for ev in events for e in ev.latest]
    scored = [e.fitness for e in told if e.score is not None]
    assert all(e.fitness < min(scored) for e in told if e.score is None)  # a failure ranks last
    assert events[-1].best_score == max(r.score for r in ratings if r.score is not None)


def _steps(store: Store, run_id: int) -> list[tuple[int, str, float | None]]:
    return sorted((r.step, r.params_hash, r.score) for r in store.ratings(run_id))


def test_an_interrupted_run_resumes_without_losing_or_repeating_a_rating(store: Store) -> None:
    seed_id = store.add_seed(DIM_SEED, source="manual")
    config = {"evals": 45, "rng_seed": 3, "population": 8}
    _, reference = explore(store, LitJudge(fail_every=7), seed_id, **config)
    expected = _steps(store, reference[-1].run_id)

    # 1) cancelled mid-generation from "another thread" (the judge's 13th call: step 12 of 1 + 8 + 8 …)
    holder: dict[str, Explorer] = {}
    judge = LitJudge(fail_every=7, on_call=lambda n: holder["x"].cancel() if n == 13 else None)
    explorer = Explorer.start(
        store, judge, seed_id, ExploreConfig(**{**SMALL, **config}), extractor=NO_EXTRACTION
    )
    holder["x"] = explorer
    events = list(explorer.run())
    run_id = explorer.run_id
    assert events[-1].stop_reason == "cancelled" and store.get_run(run_id).status == "cancelled"
    assert len(store.ratings(run_id)) == 13 == judge.calls

    # 2) resumed, then killed (the consumer drops the generator) after the next generation
    judge2 = LitJudge(fail_every=7)
    judge2.calls = 13  # the failure schedule continues where the first session stopped
    run = Explorer(store, judge2, run_id, extractor=NO_EXTRACTION).run()
    for event in run:
        if event.evaluations >= 20:
            break
    run.close()
    assert store.get_run(run_id).status == "cancelled"
    judged_before = len(store.ratings(run_id))
    assert judged_before == judge2.calls == 1 + 3 * 8  # the seed and three generations of 8

    # 3) resumed to the end, on two render workers this time
    judge3 = LitJudge(fail_every=7)
    judge3.calls = judge2.calls
    final = list(Explorer(store, judge3, run_id, extractor=NO_EXTRACTION, workers=2).run())[-1]
    assert final.done and final.stop_reason == "budget" and final.evaluations == 45
    assert final.replayed == judged_before and judge3.calls - judge2.calls == 45 - judged_before
    assert store.get_run(run_id).status == "done"
    assert _steps(store, run_id) == expected  # the same run as the uninterrupted one, step for step


def test_a_replay_that_diverges_is_refused(store: Store) -> None:
    seed_id = store.add_seed(DIM_SEED, source="manual")
    explorer = Explorer.start(
        store, LitJudge(), seed_id, ExploreConfig(**SMALL, evals=10), extractor=NO_EXTRACTION
    )
    store.add_rating({**defaults(), "repetitions": 99}, 5.0, judge="x", run_id=explorer.run_id, step=0)
    with pytest.raises(ExploreError, match="cannot be replayed"):
        list(explorer.run())
    assert store.get_run(explorer.run_id).status == "failed"


def test_novelty_pressure_spreads_the_finds(store: Store) -> None:
    """Over 8 optimiser seeds, novelty pressure gives finds more spread and more distinct ones.

    Why medians over 8 seeds: a run's finds are chaotic in the renders' last bits, which differ from one CPU
    to another (numba compiles for the host), and one run in a few finds far more distinct designs than
    the rest, with or without pressure. Sums over 4 seeds passed on one VM (176 against 149 distinct) and
    failed on the next (176 against 169, 2026-12-01: seed 0 found 91 without pressure, seeds 1-3 10-56).
    That VM over seeds 0-7: distinct finds per run, median 48 with pressure against 12.5 without (more on
    7 of 8 seeds); spread, median 0.203 against 0.147."""
    seed_id = store.add_seed(DIM_SEED, source="manual")
    figures = {}
    for weight in (0.0, 4.0):
        spread, count, first = [], [], []
        for rng_seed in range(8):
            _, events = explore(store, LitJudge(), seed_id, evals=400, novelty=weight, rng_seed=rng_seed)
            finds = store.ratings(events[-1].run_id, min_score=9)
            descs = [descriptor(load_image(store.image_path(r))) for r in finds]
            spread.append(diversity(descs))
            count.append(distinct(descs, 0.15))
            first.append(finds[0].step)
        figures[weight] = (np.array(spread), np.array(count), first)
    (spread0, distinct0, first0), (spread1, distinct1, first1) = figures[0.0], figures[4.0]
    assert first1 == first0  # no pressure before the first find: reaching a find costs the same
    assert np.median(spread1) > 1.1 * np.median(spread0), figures
    assert np.median(distinct1) > 1.5 * np.median(distinct0), figures
    assert (distinct1 > distinct0).sum() >= 5, figures


def test_find_archive_penalty() -> None:
    archive = FindArchive(weight=4.0, radius=0.2)
    a, b = np.zeros(144, np.float32), np.full(144, 0.1, np.float32)
    assert archive.penalty(a) == 0.0 and archive.nearest(a) == float("inf")
    archive.add(a)
    assert archive.penalty(a) == pytest.approx(4.0)
    assert archive.penalty(b) == pytest.approx(4.0 * 0.5**2)  # distance 0.1 = half the radius
    assert archive.penalty(np.full(144, 0.3, np.float32)) == 0.0
    assert FindArchive(weight=0.0, radius=0.2).penalty(a) == 0.0
    assert distance(a, b) == pytest.approx(0.1) and distinct([a, b, a], 0.05) == 2


def test_descriptor_ignores_size_but_not_content() -> None:
    from core.render import render

    big, small = render(DIM_SEED, 256, 144, "fast"), render(DIM_SEED, 128, 72, "fast")
    other = render({**DIM_SEED, "geometry": "wave", "repetitions": 30}, 256, 144, "fast")
    assert descriptor(big).shape == (144,)
    assert distance(descriptor(big), descriptor(small)) < 0.3 * distance(descriptor(big), descriptor(other))


def test_seeds_from_params_and_images(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"geometry": "ring"}))
    assert read_params(str(path)) == read_params('{"geometry": "ring"}') == {"geometry": "ring"}
    with pytest.raises(SeedError, match="neither a JSON object nor a file"):
        read_params("missing.json")
    image = np.zeros((36, 64, 3), np.uint8)
    with pytest.raises(SeedError, match="inverse model"):
        seed_from_image(store, image, None)
    seed = store.get_seed(seed_from_image(store, image, marked_extractor, origin="test.png"))
    assert seed.source == "cnn" and seed.origin == "test.png" and seed.params == marked_extractor(image)


def test_default_extractor_skips_a_missing_checkpoint(tmp_path: Path) -> None:
    choice = default_extractor(tmp_path / "missing.pt")
    assert (
        choice.extract is None
        and choice.note.startswith("extraction skipped")
        and "missing.pt" in choice.note
    )


def test_closed_loop_through_a_tiny_random_inverse_model(store: Store, tmp_path: Path) -> None:
    from core.inverse import InverseModel, ModelConfig, save_checkpoint

    model = InverseModel(ModelConfig(backbone="test_resnet", input_size=64, neck=32)).eval()
    extract = cnn_extractor(save_checkpoint(model, tmp_path / "tiny.pt"))
    seed_id = store.add_seed(DIM_SEED, source="manual")
    _, events = explore(store, LitJudge(), seed_id, evals=40, extractor=extract)
    find = next(f for f in events[-1].finds if f.seed_id is not None)
    seed = store.get_seed(find.seed_id)
    assert find.source == seed.source == "cnn" and seed.parent_id == seed_id
    assert seed.params == validate(seed.params) and seed.params != store.get_rating(find.rating_id).params
