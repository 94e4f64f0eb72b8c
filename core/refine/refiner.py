"""The refinement loop: start params → the best match the renderer can express, as a stream of events.

The caller owns the loop: iterate `Refiner.run()` (or `refine(...)`) and stop when you like; `cancel()`
from any thread ends the run at the next evaluation and still yields a final event with the best so far.
Runs are seeded: the same seed, options and evaluation budget give the same best params with any worker
count (results are told in submission order). A time budget trades that for a wall-clock bound.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from core.imageio import to_rgb_float
from core.metrics import match_report
from core.metrics.report import flat_target_note
from core.params import defaults, sample_params
from core.params.js import is_real, is_whole
from core.refine.catcma import CatCMASearch
from core.refine.evaluate import Evaluator, Scorer
from core.refine.events import ProgressEvent
from core.refine.finish import Finish
from core.refine.loss import DEFAULT_WIDTH, Loss, make_loss
from core.refine.mirror import completion, symmetry
from core.refine.multistart import (
    ROUND_GENERATIONS,
    STALL_GENERATIONS,
    MultiStartCMA,
    checked_round_generations,
)
from core.refine.polish import POLISH_EVALS
from core.refine.search import Search
from core.refine.space import ParamSpace, complete
from core.refine.supersample import resolved_supersample
from core.render import render
from core.workers import on_one_blas_thread


class FlatTargetWarning(UserWarning):
    """The target is one flat colour: no figure of the run says anything about a design (the app and the
    CLI say so before they refine, and ignore this; a library caller hears it from the Refiner)."""


DEFAULT_METHOD = "cma"
"""Measured (benchmarks/refine.py, 5 held-out synthetic targets from a perturbed start, 1000 evaluations,
σ = 0.02): cma median ssim_skill 0.19 / lum_corr 0.835 against catcma −0.12 / 0.821; at σ = 0.05 both were
worse (catcma 0.05 / 0.766, cma −0.02 / 0.760). Again at the default budget from the first guess
(benchmarks/refine.py --method catcma, seeds 0 and 1): the first 5 synthetic targets' seed-mean median
lum_corr 0.807 against cma's 0.904, ref.png 0.77 / 0.83 against 0.91 / 0.90; only figma-01 did better
(0.91 against 0.87 / 0.89). catcma stays selectable. The same race with pycma's CMA-ES (method "pycma",
core.refine.engines, its default options) at the default budget, seeds 0 and 1, against cma the same day:
synthetic seed-mean median ssim / ssim_skill / lum_corr 0.934 / 0.38 / 0.932 against 0.939 / 0.42 / 0.932
(lum_corr higher in 16 of 40 runs, lower in 20), ref.png ssim 0.48 / 0.48 against 0.64 / 0.50; it stays
selectable too."""
DEFAULT_BUDGET_EVALS = 20000
DEFAULT_BUDGET_SECONDS = 40.0
"""Defaults: whichever comes first. 3000 evaluations took ≈ 10 s on 2 cores; 12000 with a 40-s cap took the
per-target seed-mean median lum_corr of 20 held-out synthetic targets from 0.913 to 0.924 (lum_corr up in 29
of 40 runs, down in 4; benchmarks/refine.py, 4 starts, seeds 0 and 1), so a run spends the time the ≤ 60-s
target leaves. 40 s keeps the first guess, the end-of-run fits and the final report of a 1652-px design
inside a minute; its last 8 s go to the polish (POLISH_SHARE). With 8 starts every benchmark run ended by
time, at 2300–11400 evaluations; the faster loss (core.metrics.similarity.SsimTo, OpenCV's filters) raised
that to 2700–19500 (median 8100 → 12200), so the cap went from 12000 to 20000 to let the time bind:
seed-mean median lum_corr 0.940 → 0.944, up in 21 of 48 runs and down in 10 (within seed noise: the same
search, further along). On a faster day of the VM the same code used up the 20000 in 21 of 48 runs (median
18400 evaluations) and scored 0.932: time-bound figures move with the machine, so variants are compared on
the same day."""
DEFAULT_N_INIT = 200
"""Sampler draws scored to pick a start when no start params are given."""
POLISH_SECONDS = 8.0
POLISH_SHARE = 0.2
"""The end of a time budget kept for the polish at the report's size (core.refine.polish): this share of
budget_seconds, at most POLISH_SECONDS; the search stops that much earlier."""
MIRROR_COMPLETION = True
"""Whether a run completes its match under the target's mirror symmetries (`mirror_completion`). Measured
2026-11-30 (benchmarks/RESULTS.md): on the 17 flip-symmetric held-out synthetic targets among indices
20–139, median lum_corr 0.957 → 0.962 and 0.947 → 0.961 on seeds 0 and 1 (runs up 14, down 5), ssim_skill
0.343 → 0.411 and 0.273 → 0.311 (up 13, down 9); over six
seeds figma-00's lum_corr 0.770 → 0.783 and figma-01's 0.890 → 0.918 on average, their ssim_skill mixed.
It fires on no target without such a symmetry (19 of the refine benchmark's first 20)."""
COMPLETION_AT = 0.25
"""Share of a segment's budget (see RESTARTS) after which `mirror_completion` completes the segment's best
match (core.refine.mirror); a search from the completed scene then takes turns with the segment's own
search, generation by generation."""
RESTARTS = 1
"""Segments the search budget is split into: each searches afresh from the same start with its own seed
(segment 0 with the run's seed), and the best of all is handed over. See `segment_seed`. Why one: half the
default budget gives the same synthetic medians as all of it (seed 0 0.9572, seed 1 0.9395), so two
segments were tried (2026-12-02, benchmarks/RESULTS.md): seed 1's median 0.9395 → 0.9489 but the runs
paired with one segment moved up 5 and down 6, and 6 of the 7 references ended worse (figma-00's lum_corr
0.824 → 0.797, under its bar): the hard targets still gain in a run's second half."""


def segment_seed(seed: int, segment: int) -> int:
    """The optimiser seed of a restart segment: the run's own for the first, then seeds drawn from
    (seed, segment), so the next seed's run (the app's next attempt) repeats none of this run's segments."""
    if segment == 0:
        return seed
    return int(np.random.SeedSequence([seed, segment]).generate_state(1)[0])


Start = tuple[np.ndarray, np.ndarray]  # (x, c) of one alternative start


METHODS: dict[str, str] = {
    "catcma": "CatCMA over continuous and categorical params jointly",
    "cma": "CMA-ES (cmaes.CMA) over the continuous params with the categoricals fixed per start, "
    "multi-start over the top-k alternatives (screened when none given)",
    "pycma": "the same multi-start with pycma's CMA-ES (core.refine.engines)",
}
"""The search methods `make_search` builds, with what each is."""


def make_search(
    method: str,
    space: ParamSpace,
    x0: np.ndarray,
    c0: np.ndarray,
    alternatives: Sequence[Start] = (),
    *,
    sigma: float,
    seed: int,
    population_size: int | None,
    cat_confidence: float | None,
    top_k: int = 4,
    stall_generations: int | None = None,
    protected: Sequence[int] = (),
    round_generations: int = ROUND_GENERATIONS,
) -> Search:
    """The one place refinement and exploration build a search. CatCMA takes the alternatives'
    categoricals as its prior and has no race (top_k, stall_generations unused); the multi-starts race
    the alternatives, or top_k screened starts when none are given."""
    if method == "catcma":
        return CatCMASearch(
            space,
            x0,
            c0,
            alternatives=[c for _, c in alternatives],
            sigma=sigma,
            seed=seed,
            population_size=population_size,
            cat_confidence=cat_confidence,
        )
    if method not in ("cma", "pycma"):
        raise ValueError(f"unknown method {method!r}: choose one of {sorted(METHODS)}")
    return MultiStartCMA(
        space,
        x0,
        c0,
        starts=list(alternatives) or None,
        top_k=top_k,
        sigma=sigma,
        seed=seed,
        population_size=population_size,
        stall_generations=stall_generations,
        engine="pycma" if method == "pycma" else "cmaes",
        protected=protected,
        round_generations=round_generations,
    )


def check_budgets(budget_evals: Any, budget_seconds: Any) -> None:
    """ValueError unless each budget given is a whole number ≥ 1 of evaluations or a number > 0 of
    seconds (None: no limit on that one). 0 and −5 used to run one evaluation, 2.5 a TypeError deep in
    the search; the command lines and the app read 0 as "no limit" and pass None."""
    if budget_evals is not None and (not is_whole(budget_evals) or budget_evals < 1):
        raise ValueError(f"budget_evals must be a whole number ≥ 1 (or None: no limit), got {budget_evals!r}")
    if budget_seconds is not None and (not is_real(budget_seconds) or not 0 < budget_seconds < math.inf):
        raise ValueError(f"budget_seconds must be a number > 0 (or None: no limit), got {budget_seconds!r}")


class Refiner:
    """Refine `start_params` against `target` (a path, bytes, PIL image or array).

    start_params None: the run first scores `n_init` draws of the weighted sampler (seeded by `seed`) and
    starts from the best, with a wide step and no categorical preference. budget_evals / budget_seconds:
    stop at whichever comes first (None: no limit of that kind; at least one must be set). top_k: an int
    (how many screened categorical alternatives method "cma" races), or a list of alternative params (e.g.
    a CNN's top-k predictions, retrieved neighbours): method "cma" races one CMA-ES from each (its own
    continuous values and categoricals), "catcma" takes their categoricals. workers: processes scoring
    candidates (1: this process). sigma: initial step in the [0, 1] coordinates (default 0.02 from given
    params, 0.1 from the sampler's best). loss: a name from core.refine.loss.LOSSES or a Loss bound to
    the target. loss_options: keywords for a named loss, at the working and the report's size alike
    (e.g. {"w_lum": 2.0}). supersample: render candidates at this many times the working size and average them
    down (core.refine.evaluate.Scorer), at roughly that factor squared in render time; None: 2 for a design
    of sub-pixel strokes, else 1 (core.refine.supersample). polish_evals: the
    most full-size renders the polish at the end may score (core.refine.polish; 0: none); with a time
    budget it gets the last POLISH_SHARE of it, at most POLISH_SECONDS, and the search stops that early.
    trials: method "cma" resumes the race's dropped starts once its lone leader stalls
    (core.refine.multistart; off by default: it did not move the benchmark's medians beyond seed noise).
    protected: positions in top_k (a list of starts) that the race's halving never drops, so they run to
    the end beside the leader (off by default; `benchmarks.refine --protect`). round_generations: the
    generations each start of method "cma" / "pycma" runs per round of the race (core.refine.multistart).
    mirror_completion: once COMPLETION_AT of the search budget is used, give the best match the mirror
    copies its target's symmetry asks for and it lacks (core.refine.mirror), and search from the completed
    scene in turns with the run's own search; the best of both is handed over. shared_pool: score in this
    process's shared pool of `workers` processes (core.shared_pool), kept for the next run: for long-lived
    callers (the app), where a spawned pool's start would otherwise come with every run. restarts: split
    the search's budget (evaluations and time alike) into this many segments, each a fresh search from the
    start with its own seed (`segment_seed`; the mirror completion within each), the best of all kept.
    """

    def __init__(
        self,
        target: Any,
        start_params: Mapping[str, Any] | None = None,
        *,
        budget_evals: int | None = DEFAULT_BUDGET_EVALS,
        budget_seconds: float | None = DEFAULT_BUDGET_SECONDS,
        method: str = DEFAULT_METHOD,
        seed: int = 0,
        workers: int = 1,
        top_k: int | Sequence[Mapping[str, Any]] | None = None,
        loss: str | Loss = "ssim_lum",
        loss_options: Mapping[str, Any] | None = None,
        working_width: int = DEFAULT_WIDTH,
        quality: str = "fast",
        sigma: float | None = None,
        cat_confidence: float | None = 0.6,
        population_size: int | None = None,
        trials: bool = False,
        protected: Sequence[int] = (),
        round_generations: int = ROUND_GENERATIONS,
        n_init: int = DEFAULT_N_INIT,
        report_every: int = 500,
        preview_every: int = 100,
        preview_width: int = 320,
        final_report: bool = True,
        lpips: bool = False,
        supersample: int | None = None,
        polish_evals: int = POLISH_EVALS,
        mirror_completion: bool = MIRROR_COMPLETION,
        shared_pool: bool = False,
        restarts: int = RESTARTS,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}: choose one of {sorted(METHODS)}")
        if budget_evals is None and budget_seconds is None:
            raise ValueError("set budget_evals, budget_seconds or both")
        check_budgets(budget_evals, budget_seconds)
        self.target = to_rgb_float(target)
        if note := flat_target_note(self.target):
            warnings.warn(note, FlatTargetWarning, stacklevel=2)
        self.loss_options = dict(loss_options or {})
        if isinstance(loss, str):
            self.loss = make_loss(loss, self.target, working_width, **self.loss_options)
        elif self.loss_options:
            raise ValueError("loss_options go with a loss name; a Loss object carries its own")
        else:
            self.loss = loss
        self.start_params = None if start_params is None else complete(start_params)
        informed = start_params is not None
        self.method, self.seed, self.workers, self.shared_pool = method, seed, workers, shared_pool
        self.budget_evals, self.budget_seconds = budget_evals, budget_seconds
        self.top_k, self.quality, self.n_init = top_k, quality, n_init
        self.supersample = resolved_supersample(supersample, self.target, self.loss.size[0])
        # 0.02 from given params: 0.05 from the first guesses did no better on the refine benchmark's first
        # 10 synthetic targets (lum_corr lower in 13 of 20 runs, higher in 7; benchmarks/RESULTS.md)
        self.sigma = sigma if sigma is not None else (0.02 if informed else 0.1)
        self.cat_confidence = cat_confidence if informed else None
        self.population_size, self.trials = population_size, trials
        self.protected = tuple(protected)
        self.round_generations = checked_round_generations(round_generations)  # before any work
        if not (is_whole(restarts) and restarts >= 1):
            raise ValueError(f"restarts must be a whole number ≥ 1, not {restarts!r}")
        self.restarts = int(restarts)
        self._cancel = threading.Event()
        self.finish = Finish(
            self.target,
            self.loss.name,
            self.loss_options,
            quality=quality,
            seed=seed,
            workers=workers,
            polish_evals=polish_evals,
            cancelled=self._cancel.is_set,
        )
        """The checks and fits at the report's size after the search, and the final image."""
        self.target_symmetry = symmetry(self.target) if mirror_completion else None
        self.completed_axis: str | None = None
        """The flip whose mirror copies the run added to its best match (core.refine.mirror), if any."""
        self.report_every, self.preview_every = report_every, preview_every
        self.preview_width, self.final_report, self.lpips = preview_width, final_report, lpips
        self._t0 = 0.0
        self.evaluations = 0
        self.stage = "ready"
        """"search", then "finish" (the checks at the report's size: no events until the last), "done"."""

    def cancel(self) -> None:
        """Stop at the next evaluation; `run()` then yields its final event with the best so far.

        A cancel ends one run: a later `run()` of the same Refiner is a whole run again (a cancel made
        before any run, or after one has ended, stops the next run at its start)."""
        self._cancel.set()

    def _elapsed(self) -> float:
        return time.perf_counter() - self._t0

    def _stop_reason(self) -> str | None:
        if self._cancel.is_set():
            return "cancelled"
        if self.budget_evals is not None and self.evaluations >= self.budget_evals:
            return "budget_evals"
        if (
            self.budget_seconds is not None
            and self._elapsed() >= self.budget_seconds - self._polish_reserve()
        ):
            return "budget_seconds"
        return None

    def _progress(self) -> float:
        """Share of the search's budget used: the larger of evaluations and time (time up to the polish)."""
        shares = [0.0]
        if self.budget_evals:
            shares.append(self.evaluations / self.budget_evals)
        if self.budget_seconds:
            shares.append(self._elapsed() / max(1e-9, self.budget_seconds - self._polish_reserve()))
        return max(shares)

    def _polish_reserve(self) -> float:
        """Seconds at the end of the time budget kept for the polish (0 without one)."""
        if self.budget_seconds is None or self.finish.polish_evals <= 0:
            return 0.0
        return min(POLISH_SECONDS, POLISH_SHARE * self.budget_seconds)

    def _finish_stop(self) -> bool:
        """Whether the finish's polish must end: a cancel, or the end of the time budget."""
        over = self.budget_seconds is not None and self._elapsed() >= self.budget_seconds
        return self._cancel.is_set() or over

    def _score(self, evaluator: Evaluator, batch: Sequence[dict[str, Any]]) -> list[float]:
        """Losses of the batch's head that fits the budget; shorter than the batch when the run ends."""
        if self.budget_evals is not None:
            batch = batch[: max(0, self.budget_evals - self.evaluations)]
        losses = []
        for value in evaluator.scores(batch, lambda: self._stop_reason() is not None):
            losses.append(value)
            self.evaluations += 1
        return losses

    def _segment(self) -> tuple[int, float]:
        """(the restart segment the run is in, the share of that segment's budget used)."""
        share = self._progress() * self.restarts
        segment = min(self.restarts - 1, int(share))
        return segment, share - segment

    def _search(
        self,
        space: ParamSpace,
        x0: np.ndarray,
        c0: np.ndarray,
        starts: Sequence[Start] | None = None,
        seed: int | None = None,
    ) -> Search:
        """The run's search from (x0, c0); `starts` replaces the alternatives top_k gives; `seed` the
        run's."""
        alts: list[Start] = []
        k = 4
        if starts is not None:
            alts, k = list(starts), len(starts)
        elif isinstance(self.top_k, int):
            k = self.top_k
        elif self.top_k is not None:
            alts = [space.encode(p) for p in self.top_k]
            k = len(alts)
        return make_search(
            self.method,
            space,
            x0,
            c0,
            alts,
            sigma=self.sigma,
            seed=self.seed if seed is None else seed,
            population_size=self.population_size,
            stall_generations=STALL_GENERATIONS if self.trials else None,
            cat_confidence=self.cat_confidence,
            top_k=k,
            protected=self.protected,
            round_generations=self.round_generations,
        )

    def run(self) -> Iterator[ProgressEvent]:
        """Events: one once the start is scored, one per generation, and a final one (done=True).

        BLAS runs on one thread while the run computes, and as the caller likes while it holds an event
        (core.workers.one_blas_thread: its spinning threads took a core from the scoring)."""
        return on_one_blas_thread(self._events())

    def _events(self) -> Iterator[ProgressEvent]:
        self._t0, self.evaluations, self.stage = time.perf_counter(), 0, "search"
        self.completed_axis = None
        scorer = Scorer(self.loss, self.quality, self.supersample)
        first = self.start_params if self.start_params is not None else complete(defaults())
        best_params = start = ParamSpace(first).decode(*ParamSpace(first).encode(first))
        best_loss = start_loss = scorer(best_params)  # also warms the renderer before a pool forks
        self.evaluations = 1
        generation, report = 0, None
        next_report, next_preview, preview_stale = self.report_every, self.preview_every, True
        with Evaluator(scorer, self.workers, shared=self.shared_pool) as evaluator:
            if self.start_params is None:
                draws = sample_params(self.n_init, seed=self.seed, mode="weighted")
                for params, value in zip(draws, self._score(evaluator, draws), strict=False):
                    if value < best_loss:
                        best_loss, best_params = value, params
            yield ProgressEvent(
                self.evaluations, 0, best_loss, best_loss, best_params, self._elapsed(), self.method
            )
            origin, origin_loss = best_params, best_loss  # every restart segment searches from here
            space = ParamSpace(origin, effects=True)
            x0, c0 = space.encode(origin)
            searches, segment = [self._search(space, x0, c0)], 0
            segment_loss, segment_params = best_loss, best_params
            to_complete = self.target_symmetry is not None
            while self._stop_reason() is None:
                now, used = self._segment()
                if now > segment:  # a fresh search from the start, with the segment's own seed
                    segment = now
                    space = ParamSpace(origin, effects=True)
                    x0, c0 = space.encode(origin)
                    searches = [self._search(space, x0, c0, seed=segment_seed(self.seed, segment))]
                    segment_loss, segment_params = origin_loss, origin
                    to_complete = self.target_symmetry is not None
                    continue
                if to_complete and used >= COMPLETION_AT:
                    to_complete = False  # once a segment
                    found = completion(segment_params, self.target_symmetry or {})
                    if found is not None:
                        self.completed_axis, completed = found
                        for value in self._score(evaluator, [completed]):
                            if value < segment_loss:
                                segment_loss, segment_params = value, completed
                            if value < best_loss:
                                best_loss, best_params, preview_stale = value, completed, True
                        space = ParamSpace(completed, effects=True)
                        x0, c0 = space.encode(completed)
                        searches.append(self._search(space, x0, c0, starts=[(x0, c0)]))
                        continue
                search = searches[generation % len(searches)]  # after a completion, the two take turns
                batch = search.ask()
                losses = self._score(evaluator, [cand.params for cand in batch])
                for cand, value in zip(batch, losses, strict=False):
                    if value < segment_loss:
                        segment_loss, segment_params = value, cand.params
                    if value < best_loss:
                        best_loss, best_params, preview_stale = value, cand.params, True
                if len(losses) < len(batch):
                    break  # a cut batch cannot be told: the budget or a cancel ended the run
                search.tell(losses)
                generation += 1
                preview = None
                if self.evaluations >= next_report:
                    next_report += self.report_every
                    report = self._working_report(scorer, best_params)
                if self.evaluations >= next_preview:
                    next_preview += self.preview_every
                    if preview_stale:
                        preview, preview_stale = self._preview(best_params), False
                yield ProgressEvent(
                    self.evaluations,
                    generation,
                    best_loss,
                    min(losses),
                    best_params,
                    self._elapsed(),
                    self.method,
                    report,
                    preview,
                )
        reason = self._stop_reason() or "budget_evals"
        self.stage = "finish"
        keep_start = self.final_report and self.start_params is not None
        if keep_start and self.finish.start_wins(start, best_params):
            best_params, best_loss = start, start_loss
        # the finish applies to whichever params are handed over
        finished = self.finish.finished(best_params, stop=self._finish_stop)
        if finished is not best_params:
            best_params, best_loss = finished, scorer(finished)
        if self.final_report:
            report = self.finish.report(best_params, lpips=self.lpips)
        self.finish.keep_only(best_params)
        self.stage = "done"
        self._cancel.clear()  # it ended this run; a rerun of this Refiner must not start cancelled
        yield ProgressEvent(
            self.evaluations,
            generation,
            best_loss,
            best_loss,
            best_params,
            self._elapsed(),
            self.method,
            report,
            self._preview(best_params),
            done=True,
            stop_reason=reason,
        )

    def _working_report(self, scorer: Scorer, params: dict[str, Any]) -> dict[str, Any]:
        w = self.loss.size[0]
        return match_report(self.loss.target, scorer.image(params), lpips=False, working_width=w)

    def _preview(self, params: dict[str, Any]) -> np.ndarray:
        h, w = self.target.shape[:2]
        width = min(self.preview_width, w)
        return render(params, width, max(1, round(width * h / w)), quality=self.quality)


def refine(
    target: Any, start_params: Mapping[str, Any] | None = None, **options: Any
) -> Iterator[ProgressEvent]:
    """Run a `Refiner(target, start_params, **options)`; iterate the events, the last has done=True.

    Use a Refiner directly when another thread needs to `cancel()` it.
    """
    return Refiner(target, start_params, **options).run()


def refine_to_end(
    target: Any,
    start_params: Mapping[str, Any] | None = None,
    *,
    stop: threading.Event | None = None,
    on_event: Callable[[ProgressEvent], None] | None = None,
    **options: Any,
) -> ProgressEvent:
    """Run a refinement to its end; the final event (done=True: best params, full report).

    For batch callers (validation, benchmarks): `refine_to_end(image, cnn_params, budget_evals=2000)`.
    `stop`, once set (a Ctrl-C handler, another thread), cancels the run at its next generation: the final
    event then holds the best so far. `on_event` sees every event (a progress bar).
    """
    refiner = Refiner(target, start_params, **options)
    last = None
    for event in refiner.run():
        last = event
        if on_event is not None:
            on_event(event)
        if stop is not None and stop.is_set():
            refiner.cancel()
    assert last is not None and last.done
    return last
