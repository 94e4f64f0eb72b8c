"""The grain's settings (the Noise pass) fitted at the report's size, on one clean render.

Why: the search moves only whether each effect is on (core.refine.space); its settings stay the start's.
The grain is a hash per canvas pixel (spec §7), so at the 160-px working size it is another pattern than
the target's and its density and opacity cannot be read there; at the target's own size it lines up
pixel for pixel and they are exactly identifiable (measured on a held-out synthetic target drawn with
grain: density found to three decimals, report lum_corr 0.55 → 1.00). Both passes work on the finished
canvas, so one render without effects serves every candidate: a candidate costs an effect pass and a
score, not a render. CMA-ES over the grain's numbers (normalised by their UI bounds).

The CRT's settings are not fitted: measured on ref.png and figma-00 (renders at 1024 px), the fit cost
13 s per target and lowered the 512-px loss by 3–5 % with a strong "stretched" mask — stripes on clean
designs that the loss takes for blur. No held-out target has a CRT to recover.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from cmaes import CMA

from core.params import NOISE, validate
from core.params.schema import Group, Kind
from core.refine.space import complete

GENERATIONS = 12
"""CMA-ES generations: ≈ 85 candidates for the grain's 3 numbers (density, opacity, size)."""
MIN_GENERATIONS = 3
"""Generations run even past the run's deadline (`stop`): a short time budget ends the fit early instead of
overrunning by all of it (figma-00, `core.refine --seconds 8`: the fit took 3.9 s and the run 11.0 s;
bounded, 1.4 s and 8.6 s). At the default 40 s the fit ends well before the deadline, unchanged."""
SIGMA = 0.2
"""Initial step in the [0, 1] coordinates: the start's settings are the sampler's or the CNN's, not a fit."""
GROUPS: tuple[Group, ...] = (NOISE,)

Score = Callable[[Mapping[str, Any]], float]
"""Params → loss; the caller draws each candidate from its clean render (core.refine.finish)."""


def _numbers(group: Group) -> list[tuple[str, float, float]]:
    return [(p.name, *p.bounds) for p in group.params if p.kind is Kind.NUMBER and not p.obsolete]  # type: ignore[misc]


def _with(params: Mapping[str, Any], group: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    return validate({**params, group: {**params[group], **settings}})


def _fit_group(
    params: dict[str, Any], value: float, group: Group, score: Score, seed: int, stop: Callable[[], bool]
) -> tuple[dict[str, Any], float]:
    """CMA-ES over `group`'s numbers from `params` (whose score is `value`): the best seen and its score;
    after MIN_GENERATIONS it ends early once `stop()`."""
    numbers = _numbers(group)
    lo = np.array([b[1] for b in numbers])
    hi = np.array([b[2] for b in numbers])
    settings = params[group.name]

    def decode(u: np.ndarray) -> dict[str, Any]:
        values = lo + np.clip(u, 0.0, 1.0) * (hi - lo)
        rounded = {n: round(float(v), 3) for (n, _, _), v in zip(numbers, values, strict=True)}
        return _with(params, group.name, rounded)

    u0 = np.clip((np.array([float(settings[n]) for n, _, _ in numbers]) - lo) / (hi - lo), 0.0, 1.0)
    best, best_value = params, value
    opt = CMA(mean=u0, sigma=SIGMA, bounds=np.array([[0.0, 1.0]] * len(numbers)), seed=seed)
    for generation in range(GENERATIONS):
        if generation >= MIN_GENERATIONS and stop():
            break
        told = []
        for _ in range(opt.population_size):
            u = opt.ask()
            candidate = decode(u)
            value = score(candidate)
            told.append((u, value))
            if value < best_value:
                best, best_value = candidate, value
        opt.tell(told)
    return best, best_value


def fit_effects(
    params: Mapping[str, Any], score: Score, *, seed: int = 0, stop: Callable[[], bool] | None = None
) -> tuple[dict[str, Any], float]:
    """`params` with the settings of each enabled effect in GROUPS (the grain) fitted to lower `score`,
    and its score; `params` (completed: every key filled) when it is off or no setting scores better.
    `stop` (a deadline, a cancel) ends each fit after MIN_GENERATIONS."""
    best = complete(params)
    best_value = score(best)
    for group in GROUPS:
        if best[group.name]["enabled"]:  # complete() filled every group
            candidate, value = _fit_group(best, best_value, group, score, seed, stop or (lambda: False))
            if value < best_value:
                best, best_value = candidate, value
    return best, best_value
