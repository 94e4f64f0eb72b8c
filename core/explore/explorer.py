"""The exploration loop: an evolution strategy around a seed, judged, with finds fed back as seeds.

The caller owns the loop: iterate `Explorer.run()`; `cancel()` from any thread stops it at the next
evaluation (the final event still comes, the run is marked cancelled). Every judgement is written to the
store as a rating keyed by its step before the next one is made, and a run is *replayed* on resume rather
than checkpointed: the strategy is rebuilt from the run's config and seed, and each generation is asked
again — the same seeded optimiser asks the same candidates — with recorded steps told their stored
scores instead of being judged again. So an interrupted run (cancelled, killed, crashed) resumes where it
stopped, loses no rating and judges no step twice; the store is the only state. A replayed candidate
whose params differ from the recorded ones (other code, other numerics) stops the resume with an error
rather than mixing two runs.

Per evaluation: render (worker processes, see `rendering`) → judge (this process) → rating → fitness
(score minus the novelty penalty, see `novelty`) → for a find (score ≥ threshold): gallery (the rating
with its image) and the closed loop (`extract`: the inverse model's reading of the render becomes a seed
whose parent is the run's seed and whose rating is the find).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from core.imageio import to_uint8
from core.judge import Judge, JudgeContext, JudgeFailure
from core.refine.refiner import make_search
from core.refine.space import ParamSpace
from core.store import Rating, RunBusyError, Store, params_key
from core.workers import on_one_blas_thread

from .config import ExploreConfig
from .events import Evaluated, ExploreEvent, Find
from .extract import Extractor, ExtractorChoice, default_extractor, promote_find
from .novelty import FindArchive, descriptor, distance
from .rendering import RenderPool

KIND = "explore"
"""The store's run kind for exploration runs."""
MAX_FAILED_IN_ROW = 8
"""Judgements in a row without a usable score after which a run stops (failed, resumable): a VLM that
answers in a form the parser cannot read spent the whole budget, three asks a candidate, and the run was
stored as done. Eight is most of a generation (4 + 3 ln n candidates)."""


class ExploreError(RuntimeError):
    """A run that cannot start or resume: the message says why."""


class RunHeldError(ExploreError):
    """A run another live process drives (core.store.holders): it goes on there, not here."""


def start_run(store: Store, seed_id: int, judge_spec: str, config: ExploreConfig | None = None) -> int:
    """Record a new exploration run from seed `seed_id` (its config + judge spec); returns the run id."""
    store.get_seed(seed_id)  # a clear error for a missing seed, before a run row exists
    config = config or ExploreConfig()
    return store.start_run(KIND, {**config.to_dict(), "judge": judge_spec}, seed_id=seed_id)


def next_rng_seed(store: Store, seed_id: int) -> int:
    """The optimiser seed of a new run from `seed_id`: the count of earlier runs from it. A second run from
    one seed used to ask the very same candidates again (rng seed 0 each time), judging a repeat."""
    return sum(run.seed_id == seed_id for run in store.runs(kind=KIND))


class Explorer:
    """One exploration run of the store (new or interrupted): `run()` yields ExploreEvents.

    judge: scores renders (`core.judge.create_judge(spec)`, or any Judge). extractor: how finds become
    seeds — None loads the default (the inverse model when models/inverse.pt exists, else extraction is
    skipped), an Extractor callable is used as given, an ExtractorChoice(None, reason) disables it.
    workers: rendering processes for this session (None: the run's config). shared_pool: render in this
    process's shared pool of that many workers (core.shared_pool), kept for the next run (the app).
    """

    def __init__(
        self,
        store: Store,
        judge: Judge,
        run_id: int,
        *,
        extractor: Extractor | ExtractorChoice | None = None,
        context: JudgeContext | None = None,
        workers: int | None = None,
        shared_pool: bool = False,
    ) -> None:
        run = store.get_run(run_id)
        if run.kind != KIND:
            raise ExploreError(f"run {run_id} is a {run.kind!r} run, not an exploration")
        if run.seed_id is None:
            raise ExploreError(f"run {run_id} has lost its seed (deleted); it cannot be replayed")
        self.store, self.judge, self.run_id, self.context = store, judge, run_id, context
        self.config = ExploreConfig.from_dict(run.config)
        if workers is not None:
            self.config = replace(self.config, workers=workers)
        self.seed_id, self.shared_pool = run.seed_id, shared_pool
        if extractor is None:
            extractor = default_extractor()
        elif not isinstance(extractor, ExtractorChoice):
            extractor = ExtractorChoice(extractor, "cnn: given extractor")
        self.extraction = extractor
        self._cancel = threading.Event()

    @classmethod
    def start(
        cls,
        store: Store,
        judge: Judge,
        seed_id: int,
        config: ExploreConfig | None = None,
        *,
        judge_spec: str | None = None,
        **options: Any,
    ) -> Explorer:
        """A new run from seed `seed_id`; `judge_spec` (default: the judge's name) is what resume uses."""
        return cls(store, judge, start_run(store, seed_id, judge_spec or judge.name, config), **options)

    def cancel(self) -> None:
        """Stop at the next evaluation; `run()` then yields its final event and marks the run cancelled."""
        self._cancel.set()

    # -- the loop ------------------------------------------------------------------------------------------

    def run(self) -> Iterator[ExploreEvent]:
        """Events: one after the seed's own evaluation, one per generation, a final one (done=True).

        Computed with BLAS on one thread (core.workers.on_one_blas_thread): `python -m benchmarks.explore
        --runs 3 --cap 150 --arms random`, three times, took 16.0 ms an evaluation against 17.5."""
        try:  # taken before anything is marked: a run another live process drives is left to it
            self.store.resume_run(self.run_id)
        except RunBusyError as exc:
            raise RunHeldError(f"{exc} (a run is driven by one process at a time)") from None
        status, error = "cancelled", "interrupted"
        try:
            yield from on_one_blas_thread(self._run())
            status, error = ("cancelled", None) if self._cancel.is_set() else ("done", None)
        except Exception as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:  # also on GeneratorExit / KeyboardInterrupt: left resumable, marked cancelled
            self.store.finish_run(self.run_id, status, error)

    def _run(self) -> Iterator[ExploreEvent]:
        cfg, store = self.config, self.store
        self._t0 = time.perf_counter()
        ratings = store.ratings(self.run_id)
        self._recorded: dict[int, Rating] = {r.step: r for r in ratings if r.step is not None}
        own = {r.id for r in ratings}
        self._seeds_of = {s.rating_id: s for s in store.seeds() if s.rating_id in own}
        self._archive = FindArchive(cfg.novelty, cfg.novelty_radius)
        self._promoted: list[np.ndarray] = []
        self._finds: list[Find] = []
        self._best: Evaluated | None = None
        self._best_image: np.ndarray | None = None
        self._replayed = 0
        self._generation = 0
        self.evaluations = 0
        self._failed_in_row = 0  # judgements without a usable score since the last one with

        seed = store.get_seed(self.seed_id)
        space = ParamSpace(seed.params)
        x0, c0 = space.encode(seed.params)
        search = make_search(
            cfg.method,
            space,
            x0,
            c0,
            sigma=cfg.sigma,
            seed=cfg.rng_seed,
            population_size=cfg.population,
            cat_confidence=cfg.cat_confidence,
            top_k=4,
        )
        pool = RenderPool(cfg.width, cfg.height, cfg.quality, cfg.workers, shared=self.shared_pool)
        start = space.decode(x0, c0)
        first_image = pool.render(start)  # warms the renderer before the pool forks from this process
        with pool:
            self.judge.prepare(self.context)
            done = list(self._evaluate(pool, [start], [first_image]))
            yield self._event(done, 0)
            while done and self.evaluations < cfg.evals and not self._cancel.is_set():
                batch = search.ask()[: cfg.evals - self.evaluations]
                n_finds = len(self._finds)
                done = list(self._evaluate(pool, [cand.params for cand in batch]))
                if len(done) == len(batch) and self.evaluations < cfg.evals:
                    search.tell([-e.fitness for e in done])  # a cut batch cannot be told; the run ends
                self._generation += 1
                yield self._event(done, n_finds)
        reason = "cancelled" if self._cancel.is_set() else "budget"
        yield self._event([], len(self._finds), stop_reason=reason)

    def _evaluate(
        self, pool: RenderPool, batch: Sequence[dict[str, Any]], given: Sequence[np.ndarray] = ()
    ) -> Iterator[Evaluated]:
        """Evaluated candidates of `batch` (steps from self.evaluations on), replaying recorded steps.

        A recorded step needs no judge; it needs its pixels only when the novelty archive (or a find of
        this batch) makes them matter, and then takes its stored PNG or, lacking one, a fresh render.
        """
        first = self.evaluations
        recorded = [self._recorded.get(first + i) for i in range(len(batch))]
        for i, (params, rec) in enumerate(zip(batch, recorded, strict=True)):
            if rec is not None and rec.params_hash != params_key(params):
                raise ExploreError(
                    f"run {self.run_id} cannot be replayed: step {first + i} asks other params than the "
                    "recorded ones (was the code or the seed changed?); start a new run instead"
                )
        images: list[np.ndarray | None] = [*given, *[None] * (len(batch) - len(given))]
        needs_pixels = bool(self._archive) or any(self._is_find(r) for r in recorded if r is not None)
        for i, rec in enumerate(recorded):
            if rec is not None and images[i] is None and needs_pixels:
                images[i] = self._stored_image(rec)
        to_render = {
            i for i, rec in enumerate(recorded) if images[i] is None and (rec is None or needs_pixels)
        }
        rendered = pool.images([batch[i] for i in sorted(to_render)], self._cancel.is_set)
        for i, (params, rec) in enumerate(zip(batch, recorded, strict=True)):
            if i in to_render:
                images[i] = next(rendered, None)
                if images[i] is None:
                    return  # cancelled while rendering
            replayed = rec is not None
            if rec is None:
                if self._cancel.is_set():
                    return
                rec = self._judge_and_record(first + i, params, images[i])
            self.evaluations += 1
            self._replayed += replayed
            yield self._consider(rec, params, images[i], replayed)

    def _judge_and_record(self, step: int, params: dict[str, Any], image: np.ndarray | None) -> Rating:
        assert image is not None
        try:
            j = self.judge.score(image, self.context)
            score, judge, rationale, raw = j.score, j.judge, j.rationale, j.raw
            self._failed_in_row = 0
        except JudgeFailure as exc:  # recorded as a failure, never as a score
            score, judge, rationale, raw = None, exc.judge, str(exc), json.dumps(exc.answers)
            self._failed_in_row += 1
        keep = self.config.images == "all" or (score is not None and score >= self.config.threshold)
        rating_id = self.store.add_rating(
            params,
            score,
            judge=judge,
            rationale=rationale,
            raw=raw,
            image=image if keep else None,
            run_id=self.run_id,
            step=step,
        )
        if self._failed_in_row >= MAX_FAILED_IN_ROW:
            raise ExploreError(
                f"the judge gave no usable score for {self._failed_in_row} candidates in a row (the last: "
                f"{rationale}); the run stops rather than spend its budget so. Their answers are stored"
            )
        return self.store.get_rating(rating_id)

    def _consider(
        self, rec: Rating, params: dict[str, Any], image: np.ndarray | None, replayed: bool
    ) -> Evaluated:
        """Fitness and best; for a find also the novelty archive, the gallery entry and the closed loop."""
        assert rec.step is not None
        desc = None if image is None else descriptor(image)
        penalty = 0.0 if desc is None else self._archive.penalty(desc)
        fitness = self._failed_fitness if rec.score is None else rec.score - penalty
        evaluated = Evaluated(
            rec.step, params, rec.score, fitness, rec.id, rec.rationale, penalty, replayed, image
        )
        if rec.score is not None and (self._best is None or rec.score > (self._best.score or 0.0)):
            self._best, self._best_image = evaluated, image
        if self._is_find(rec):
            assert desc is not None and image is not None
            self._archive.add(desc)
            self._finds.append(self._close_loop(rec, desc, image))
        return evaluated

    @property
    def _failed_fitness(self) -> float:
        """Below any judged candidate's fitness (score ≥ 1, penalty ≤ novelty): a failure ranks last."""
        return -self.config.novelty

    def _is_find(self, rec: Rating) -> bool:
        return rec.score is not None and rec.score >= self.config.threshold

    def _stored_image(self, rec: Rating) -> np.ndarray | None:
        path = self.store.image_path(rec)
        return to_uint8(path) if path is not None and path.is_file() else None

    # -- the closed loop -----------------------------------------------------------------------------------

    def _close_loop(self, rec: Rating, desc: np.ndarray, image: np.ndarray) -> Find:
        """The find's seed: the existing one (a replayed find), a new one, or none for a near-duplicate."""
        assert rec.step is not None and rec.score is not None
        existing = self._seeds_of.get(rec.id)
        novel = all(distance(desc, d) >= self.config.duplicate_radius for d in self._promoted)
        if existing is None and not novel:
            return Find(rec.step, rec.id, rec.score, None, None)
        self._promoted.append(desc)
        if existing is not None:
            return Find(rec.step, rec.id, rec.score, existing.id, existing.source)
        seed_id, source = promote_find(self.store, rec, image, self.extraction)
        return Find(rec.step, rec.id, rec.score, seed_id, source)

    # -- progress ------------------------------------------------------------------------------------------

    def _event(
        self, latest: Sequence[Evaluated], finds_before: int, stop_reason: str | None = None
    ) -> ExploreEvent:
        """The event now (and the store's progress record of the run); final when `stop_reason` is set."""
        best = self._best
        event = ExploreEvent(
            run_id=self.run_id,
            evaluations=self.evaluations,
            budget=self.config.evals,
            generation=self._generation,
            best_score=None if best is None else best.score,
            best_params=None if best is None else best.params,
            best_rating_id=None if best is None else best.rating_id,
            latest=tuple(latest),
            finds=tuple(self._finds),
            new_finds=tuple(self._finds[finds_before:]),
            replayed=self._replayed,
            extraction=self.extraction.note,
            elapsed=time.perf_counter() - self._t0,
            best_image=self._best_image,
            done=stop_reason is not None,
            stop_reason=stop_reason,
        )
        self.store.update_progress(self.run_id, event.progress())
        return event
