"""CatCMA (cmaes.CatCMA): continuous coordinates and categoricals searched jointly.

The Gaussian starts at the start params with step `sigma` (in the [0, 1] coordinates); each categorical
distribution starts with `cat_confidence` of its mass on the start's option (None: uniform, for a start
that carries no information). When the distribution collapses (cmaes's own stop test, or a step below
the renderer's resolution) it restarts around the best point found, with half the initial step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from cmaes import CatCMA

from core.refine.search import Candidate, clip_loss
from core.refine.space import ParamSpace

MIN_SIGMA = 1e-3
"""Below this step (a thousandth of every range) candidates differ by less than the codec's quantum."""


def categorical_prior(
    cat_num: np.ndarray, starts: Sequence[np.ndarray], confidence: float | None
) -> np.ndarray:
    """CatCMA's `cat_param`: rows zero-padded to max(cat_num); `confidence` of each row's mass shared by
    the options the starts pick (a CNN's top-k), the rest spread evenly; None gives uniform rows."""
    q = np.zeros((len(cat_num), int(cat_num.max())))
    for i, k in enumerate(cat_num):
        q[i, :k] = 1.0 / k
        if confidence is None:
            continue
        picked = sorted({int(s[i]) for s in starts})
        if len(picked) == k:
            continue
        p = max(confidence, len(picked) / k)
        q[i, :k] = (1.0 - p) / (k - len(picked))
        q[i, picked] = p / len(picked)
    return q


def step_size(optimizer: object) -> float:
    """The current σ of a cmaes optimiser (the library keeps it private; 1.0 if that ever changes)."""
    return float(getattr(optimizer, "_sigma", 1.0))


class CatCMASearch:
    """Ask/tell CatCMA over a ParamSpace, restarting from the best point when it converges."""

    def __init__(
        self,
        space: ParamSpace,
        start_x: np.ndarray,
        start_c: np.ndarray,
        *,
        sigma: float = 0.15,
        cat_confidence: float | None = 0.6,
        seed: int = 0,
        population_size: int | None = None,
        alternatives: Sequence[np.ndarray] = (),
    ) -> None:
        self.space, self.sigma0, self.cat_confidence = space, sigma, cat_confidence
        self.alternatives = [np.asarray(a) for a in alternatives]
        self.seed, self.population_size = seed, population_size
        self.best: tuple[float, np.ndarray, np.ndarray] = (np.inf, start_x.copy(), start_c.copy())
        self.restarts = 0
        self._opt = self._new(start_x, start_c, sigma, cat_confidence)
        self._asked: list[tuple[np.ndarray, np.ndarray]] = []

    def _new(self, x: np.ndarray, c: np.ndarray, sigma: float, confidence: float | None) -> CatCMA:
        cat_num = self.space.cat_num
        return CatCMA(
            mean=np.asarray(x, dtype=float).copy(),
            sigma=sigma,
            cat_num=cat_num,
            cat_param=categorical_prior(cat_num, [c, *self.alternatives], confidence),
            seed=self.seed + 1000 * self.restarts,
            population_size=self.population_size,
        )

    def ask(self) -> list[Candidate]:
        self._asked = [self._opt.ask() for _ in range(self._opt.population_size)]
        out = []
        for x, onehot in self._asked:
            c = np.argmax(onehot, axis=1)
            out.append(Candidate(x, c, self.space.decode(x, c)))
        return out

    def tell(self, losses: Sequence[float]) -> None:
        values = [clip_loss(v) for v in losses]
        for (x, onehot), v in zip(self._asked, values, strict=True):
            if v < self.best[0]:
                self.best = (v, x.copy(), np.argmax(onehot, axis=1))
        self._opt.tell([(sol, v) for sol, v in zip(self._asked, values, strict=True)])
        if self._opt.should_stop() or step_size(self._opt) < MIN_SIGMA:
            self.restarts += 1
            _, x, c = self.best
            self.alternatives = []  # a restart trusts the best point found
            self._opt = self._new(x, c, self.sigma0 / 2, max(self.cat_confidence or 0.0, 0.6))
