"""CMA-ES engines for the multi-start (core.refine.multistart): one interface, two libraries.

`cmaes` (cmaes.CMA: lean, the default) and `pycma` (cma.CMAEvolutionStrategy: active covariance update,
its own stop tests). Both run unbounded in the [0, 1] coordinates: ParamSpace reflects at the bounds, so
the engines differ only in their updates. Each engine draws from its own seeded generator, so runs are
repeatable however many engines run side by side.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from cmaes import CMA

from core.refine.catcma import step_size

with warnings.catch_warnings():  # pycma warns on import that matplotlib (its plots) is absent
    warnings.simplefilter("ignore")
    import cma


class Engine(Protocol):
    """One CMA-ES: a generation per ask, its losses told in order."""

    @property
    def sigma(self) -> float: ...

    def ask(self) -> list[np.ndarray]: ...

    def tell(self, xs: Sequence[np.ndarray], values: Sequence[float]) -> None: ...

    def should_stop(self) -> bool: ...


class CmaesEngine:
    """cmaes.CMA."""

    def __init__(self, x: np.ndarray, sigma: float, seed: int, popsize: int | None) -> None:
        self._opt = CMA(mean=x, sigma=sigma, seed=seed, population_size=popsize)

    @property
    def sigma(self) -> float:
        return step_size(self._opt)

    def ask(self) -> list[np.ndarray]:
        return [self._opt.ask() for _ in range(self._opt.population_size)]

    def tell(self, xs: Sequence[np.ndarray], values: Sequence[float]) -> None:
        self._opt.tell(list(zip(xs, values, strict=True)))

    def should_stop(self) -> bool:
        return bool(self._opt.should_stop())


class PycmaEngine:
    """pycma's CMAEvolutionStrategy with its default options (active CMA), quiet, seeded per engine."""

    def __init__(self, x: np.ndarray, sigma: float, seed: int, popsize: int | None) -> None:
        rng = np.random.default_rng(seed)
        options = {
            "verbose": -9,
            "seed": np.nan,  # the draws come from `randn`, not from numpy's global state
            "randn": lambda *shape: rng.standard_normal(shape),
        }
        if popsize is not None:
            options["popsize"] = popsize
        self._es = cma.CMAEvolutionStrategy(x, sigma, options)

    @property
    def sigma(self) -> float:
        return float(self._es.sigma)

    def ask(self) -> list[np.ndarray]:
        return [np.asarray(x, float) for x in self._es.ask()]

    def tell(self, xs: Sequence[np.ndarray], values: Sequence[float]) -> None:
        self._es.tell(list(xs), list(values))

    def should_stop(self) -> bool:
        return bool(self._es.stop())


ENGINES: dict[str, type[CmaesEngine] | type[PycmaEngine]] = {"cmaes": CmaesEngine, "pycma": PycmaEngine}
