"""The search's best polished at the report's size: coordinate descent on the loss there, after the search.

Why: the search scores 160-px renders, where a design's fine structure (the stripes of 270 overlapping
rings, a one-pixel stroke) is blurred away, so it leaves the numbers that place that structure where any
value in a small band scores alike. At the report's 512 px they do not: on ref.png's refined match, one
coordinate moved by 0.5–2 % of its range (repetitions, scale, stepFactor or the layer's x scale) raised
the report's ssim from 0.61 to 0.65–0.66. CMA-ES at 512 px (σ 0.005, 15 s, ≈ 500 evaluations) gained
0.00–0.01 (two seeds): its steps move every coordinate at once, where the gain is in one at a time.

Each point is a full-size render, so the polish is short: a step up and a step down per coordinate, scored
together (in parallel where the caller can), the better kept when it scores lower; smaller steps once a
pass gains nothing; until its evaluations or its time run out. Colours are left to
`core.refine.colour`, which fits them to the target's light (the loss hardly sees colour).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from core.refine.space import ParamSpace

STEPS: tuple[float, ...] = (0.01, 0.004)
"""Step sizes in the search's [0, 1] coordinates, largest first."""
POLISH_EVALS = 150
"""Full-size evaluations at most. For ref.png (1652 px: a 1024-px render and the 512-px loss) one takes
≈ 90 ms, ≈ 47 ms each two at a time on 2 cores; a 320-px synthetic target far less."""


def polish(
    params: Mapping[str, Any],
    value: float,
    score: Callable[[Sequence[dict[str, Any]]], Sequence[float]],
    *,
    max_evals: int = POLISH_EVALS,
    stop: Callable[[], bool] = lambda: False,
) -> tuple[dict[str, Any], float, int]:
    """(best params, its score, evaluations spent), starting from `params` whose score is `value`.

    `score` scores a batch of params (one coordinate's step up and down). Every continuous coordinate but
    the colours is tried; the better of its two steps is kept when it scores lower. A pass with no gain
    moves on to the next smaller step. `stop` is asked before each batch (a deadline, a cancel).
    Deterministic without a deadline, whatever the batch is scored with."""
    best, best_value, spent = dict(params), value, 0
    space = ParamSpace(best, effects=True)
    x, c = space.encode(best)
    dims = [i for i, dim in enumerate(space.dims) if "color" not in dim.path]
    for step in STEPS:
        improved = True
        while improved:
            improved = False
            for i in dims:
                batch: list[dict[str, Any]] = []
                for sign in (1.0, -1.0):
                    moved = x.copy()
                    moved[i] += sign * step
                    candidate = space.decode(moved, c)
                    if candidate != best and candidate not in batch:  # a step may round back (integers)
                        batch.append(candidate)
                batch = batch[: max(0, max_evals - spent)]
                if not batch:
                    if spent >= max_evals:
                        return best, best_value, spent
                    continue
                if stop():
                    return best, best_value, spent
                values = list(score(batch))
                spent += len(batch)
                j = min(range(len(batch)), key=values.__getitem__)
                if values[j] < best_value:
                    best, best_value, improved = batch[j], values[j], True
                    x = space.encode(best)[0]
    return best, best_value, spent
