"""CMA-ES over the continuous coordinates with the categoricals fixed, from several starts (multi-start).

Each start is one choice of every categorical (from the CNN's top-k, or from `screen`); each gets its own
CMA-ES, from cmaes (default) or pycma (`engine`, core.refine.engines). Starts race by successive halving:
every surviving start runs `round_generations` generations, then the worse half is dropped, until one runs
on alone. This needs no budget up front, so it
works the same under an evaluation or a time budget.

`screen` finds starts when none are given: the start plus every one-categorical change of it, scored in
one batch, best k kept. It costs Σ(options − 1) evaluations (≈ 30 for a one-layer scene).

Sweeps let the categoricals move during the run: every `sweep_every` generations the leading start's best
point is scored with every one-categorical change (one batch, ≈ 40 evaluations); when one scores better,
that start carries on with it (CMA-ES state kept: only what it holds fixed changed). A start drawn with
the wrong progression or origin otherwise keeps it to the end, however well its numbers are tuned.

Trials give the dropped starts a second look: once one start runs on alone and its best has not improved by
STALL_TOLERANCE in `stall_generations` generations, the best dropped start resumes (its CMA-ES state kept),
taking turns generation for generation with the leader, for `trial_generations` of its own. It takes over
when it ends better; else the next dropped start has its turn, unless the leader has moved on meanwhile.
Why: eight generations are too short a look. Run alone for 12 s, a start the race had dropped ended better
than the race's winner after 40 s on several held-out targets (synthetic-9000-018: 0.054 against 0.074),
and the winner had stopped improving half-way through the run. The leader keeps its turns because it
often still gains in small steps that the report's sizes see.
Off by default (`stall_generations=None`; Refiner's `trials`): on the refinement benchmark's 20 held-out
synthetic targets (2 seeds, 40 s) trials lifted the runs at lum_corr ≥ 0.95 from 8 to 9 per seed, but moved
the seed-mean medians only within seed noise (lum_corr 0.9404 → 0.9415, ssim_skill 0.50 → 0.46), and took
figma-01 from 0.86 / 0.875 to 0.85 / 0.83.

`protected` positions are never dropped by the halving: they run to the end beside the leader. Why one
might: a start close to the truth in parameters can look worse than another scene for the first rounds
(a CNN's own prediction among bank scenes). Off by default: protecting the CNN's start of a first guess
built from the perturbed truth (benchmarks.refine --starts perturbed-guess --protect 1) moved the median
not at all (0.949), 6 targets up and 7 down.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.refine.catcma import MIN_SIGMA
from core.refine.engines import ENGINES, Engine
from core.refine.search import Candidate, clip_loss
from core.refine.space import ParamSpace


def neighbours(space: ParamSpace, c: np.ndarray) -> list[np.ndarray]:
    """`c` and every option vector that differs from it in exactly one categorical."""
    out = [np.asarray(c).copy()]
    for i, k in enumerate(space.cat_num):
        for option in range(int(k)):
            if option != c[i]:
                alt = np.asarray(c).copy()
                alt[i] = option
                out.append(alt)
    return out


ROUND_GENERATIONS = 14
"""Generations each surviving start runs per round of the race before the worse half is dropped. Eight was
too short a look (see the trials below). Measured at the default budget against 8, the same day
(benchmarks.refine --round-generations, seeds 0 and 1; the references through the same pipeline):
- 14: the 20 held-out synthetic targets' lum_corr up in 21 of 40 runs, down in 12 (mean +0.007),
  seed-mean median ssim / ssim_skill / lum_corr 0.940 / 0.42 / 0.932 → 0.935 / 0.49 / 0.932; the four
  references' lum_corr up in 7 of 8 runs (mean +0.017): ref.png 0.892 / 0.792 → 0.899 / 0.878 (ssim 0.64 /
  0.50 → 0.64 / 0.60), figma-00 0.749 / 0.747 → 0.755 / 0.779, figma-01 0.909 / 0.903 → 0.912 / 0.858,
  figma-02 0.851 / 0.857 → 0.856 / 0.899. Seed 2: synthetic median lum_corr 0.9385 → 0.9425 (up in 8
  runs, down in 9), ssim_skill 0.29 → 0.42; the four references' lum_corr up, ref.png by 0.001.
- 20: synthetic up in 21, down in 13 (mean +0.005), 0.935 / 0.56 / 0.938; references up in 4 of 8, down in
  4 (mean +0.006): figma-01 fell on both seeds (0.874 / 0.844), so 14 was kept."""


def checked_round_generations(n: int) -> int:
    """`n` when it is a round length the race can use (≥ 1: with 0 the race would never halve); else
    ValueError."""
    if n < 1:
        raise ValueError(f"round_generations must be at least 1, not {n}")
    return n


SWEEP_EVERY = 24
"""Generations (of any start) between categorical sweeps of the leading start."""
STALL_GENERATIONS = 60
TRIAL_GENERATIONS = 100
STALL_TOLERANCE = 0.01
"""A lone start has stalled when its best improved by less than this share in STALL_GENERATIONS
generations; a dropped start then resumes for TRIAL_GENERATIONS (see the module's docstring)."""


class _Run:
    """One CMA-ES with its categoricals fixed; restarts around its best point when it converges."""

    def __init__(
        self, x: np.ndarray, c: np.ndarray, sigma: float, seed: int, popsize: int | None, engine: str
    ) -> None:
        self.c, self.sigma0, self.seed, self.popsize, self.engine = c, sigma, seed, popsize, engine
        self.best: tuple[float, np.ndarray] = (np.inf, x.copy())
        self.restarts = 0
        self.opt = self._new(x, sigma)

    def _new(self, x: np.ndarray, sigma: float) -> Engine:
        seed = self.seed + 1000 * self.restarts
        return ENGINES[self.engine](np.asarray(x, float).copy(), sigma, seed, self.popsize)

    def tell(self, xs: list[np.ndarray], values: list[float]) -> None:
        for x, v in zip(xs, values, strict=True):
            if v < self.best[0]:
                self.best = (v, x.copy())
        self.opt.tell(xs, values)
        if self.opt.should_stop() or self.opt.sigma < MIN_SIGMA:
            self.restarts += 1
            self.opt = self._new(self.best[1], self.sigma0 / 2)


class MultiStartCMA:
    """Ask/tell multi-start CMA-ES; `starts` are option vectors sharing `start_x`, or (x, c) pairs (e.g.
    retrieved neighbours, each with its own continuous values); None: screened from `start_c`."""

    def __init__(
        self,
        space: ParamSpace,
        start_x: np.ndarray,
        start_c: np.ndarray,
        *,
        starts: Sequence[np.ndarray | tuple[np.ndarray, np.ndarray]] | None = None,
        top_k: int = 4,
        sigma: float = 0.15,
        seed: int = 0,
        population_size: int | None = None,
        round_generations: int = ROUND_GENERATIONS,
        sweep_every: int | None = SWEEP_EVERY,
        stall_generations: int | None = None,
        trial_generations: int = TRIAL_GENERATIONS,
        engine: str = "cmaes",
        protected: Sequence[int] = (),
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown CMA-ES engine {engine!r}: choose one of {sorted(ENGINES)}")
        self.engine = engine
        self.space, self.start_x, self.top_k = space, np.asarray(start_x, float), top_k
        self.sigma, self.seed, self.popsize = sigma, seed, population_size
        self.round_generations = checked_round_generations(round_generations)
        self.sweep_every = sweep_every
        self.stall_generations, self.trial_generations = stall_generations, trial_generations
        self.dropped: list[_Run] = []  # starts the halving dropped, CMA-ES state kept for a trial
        self.trial: _Run | None = None  # a dropped start resumed while the lone leader is stalled
        self._trial_age = 0
        self._trial_turn = False  # whether the trial, not the leader, is asked next
        self._mark = (np.inf, 0)  # the lone leader's best when it last improved, generations since
        self._since_sweep = 0
        self._sweeping: tuple[_Run, list[np.ndarray]] | None = None
        self._screening: list[np.ndarray] | None = None
        self.runs: list[_Run] = []
        self.protected = frozenset(protected)  # indices into `starts` the halving never drops
        if starts is None:
            self._screening = neighbours(space, np.asarray(start_c))
        else:
            pairs = [s if isinstance(s, tuple) else (self.start_x, s) for s in starts]
            self._start_runs([(np.asarray(x, float), np.asarray(c)) for x, c in pairs][: max(1, top_k)])
        self._turn = 0  # index into runs of the run being asked
        self._generation_in_round = 0
        self._asked: list[np.ndarray] = []

    def _start_runs(self, starts: list[tuple[np.ndarray, np.ndarray]]) -> None:
        self.runs = [
            _Run(x, c, self.sigma, self.seed + i, self.popsize, self.engine)
            for i, (x, c) in enumerate(starts)
        ]
        self._protected_runs = [run for i, run in enumerate(self.runs) if i in self.protected]

    def ask(self) -> list[Candidate]:
        if self._screening is not None:
            return [Candidate(self.start_x, c, self.space.decode(self.start_x, c)) for c in self._screening]
        if self.sweep_every and self._since_sweep >= self.sweep_every:
            self._since_sweep = 0
            leader = self.trial or min(self.runs, key=lambda r: r.best[0])
            x = leader.best[1]
            self._sweeping = (leader, neighbours(self.space, leader.c)[1:])
            return [Candidate(x, c, self.space.decode(x, c)) for c in self._sweeping[1]]
        run = self._asked_run()
        self._asked = run.opt.ask()
        return [Candidate(x, run.c, self.space.decode(x, run.c)) for x in self._asked]

    def tell(self, losses: Sequence[float]) -> None:
        values = [clip_loss(v) for v in losses]
        if self._screening is not None:
            order = np.argsort(values, kind="stable")[: max(1, self.top_k)]
            self._start_runs([(self.start_x, self._screening[i]) for i in order])
            self._screening = None
            return
        if self._sweeping is not None:
            leader, options = self._sweeping
            self._sweeping = None
            i = int(np.argmin(values))
            if values[i] < leader.best[0]:
                leader.c, leader.best = options[i], (values[i], leader.best[1].copy())
            return
        self._since_sweep += 1
        run = self._asked_run()
        run.tell(self._asked, values)
        if self.trial is not None:
            self._trial_turn = run is not self.trial
            if run is self.trial:
                self._end_trial_when_due()
            return
        self._turn += 1
        if self._turn == len(self.runs):
            self._turn = 0
            self._generation_in_round += 1
            if self._generation_in_round == self.round_generations and len(self.runs) > 1:
                self._generation_in_round = 0
                ranked = sorted(self.runs, key=lambda r: r.best[0])
                kept = ranked[: max(1, len(ranked) // 2)]
                kept += [r for r in ranked if r in self._protected_runs and r not in kept]
                self.runs = kept
                self.dropped += [r for r in ranked if r not in kept]
        if len(self.runs) == 1:
            self._watch_the_lone_leader()

    def _asked_run(self) -> _Run:
        return self.trial if self.trial is not None and self._trial_turn else self.runs[self._turn]

    def _watch_the_lone_leader(self) -> None:
        """Count the lone leader's generations without a STALL_TOLERANCE gain; at `stall_generations`
        start a trial of the best dropped start."""
        best = self.runs[0].best[0]
        if self._moved_on(best):
            self._mark = (best, 0)
        else:
            self._mark = (self._mark[0], self._mark[1] + 1)
        if self.stall_generations and self._mark[1] >= self.stall_generations and self.dropped:
            self.dropped.sort(key=lambda r: r.best[0])
            self._start_trial()

    def _moved_on(self, best: float) -> bool:
        """Whether `best` beats the lone leader's mark by STALL_TOLERANCE."""
        return best < self._mark[0] * (1.0 - STALL_TOLERANCE)

    def _start_trial(self) -> None:
        self.trial, self._trial_age, self._trial_turn = self.dropped.pop(0), 0, True

    def _end_trial_when_due(self) -> None:
        """After `trial_generations` the trial takes over if it is better (with a fresh stall count), else
        it is dropped for good and the next dropped start has its trial, unless the leader has gained
        STALL_TOLERANCE meanwhile (then it has a fresh stall count)."""
        self._trial_age += 1
        if self._trial_age < self.trial_generations:
            return
        trial, self.trial = self.trial, None
        assert trial is not None
        leader = self.runs[0]
        if trial.best[0] < leader.best[0]:
            self.runs, self._mark = [trial], (trial.best[0], 0)
        elif self._moved_on(leader.best[0]):
            self._mark = (leader.best[0], 0)
        elif self.dropped:
            self._start_trial()
