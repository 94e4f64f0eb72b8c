"""Refinement: from start params (a CNN prediction, or nothing) to the best match the renderer can express.

>>> for event in refine("target.png", start, budget_evals=2000, workers=2):
...     print(event.evaluations, event.best_loss)
>>> event.best_params, event.best_report  # the final event (done=True)

Modules, one concern each: `space` (which params move; vector ↔ params), `loss` (target-bound image
losses), `search` / `catcma` / `multistart` (ask/tell optimisers), `evaluate` (scoring in a process pool),
`events` (what progress looks like), `refiner` (the loop: budgets, cancel, progress), the end of a run's
finish: `stroke` (geoWidth scanned at the target's size), `effects` (the grain's settings fitted there),
`colour` (colour fitted to the light), `gap` (what is left, in words), and `cli`.
"""

from core.refine.alternatives import alternative_starts
from core.refine.catcma import CatCMASearch
from core.refine.events import ProgressEvent
from core.refine.loss import LOSSES, Loss, SsimLumLoss, make_loss
from core.refine.multistart import MultiStartCMA
from core.refine.refiner import (
    DEFAULT_BUDGET_EVALS,
    DEFAULT_BUDGET_SECONDS,
    DEFAULT_METHOD,
    METHODS,
    FlatTargetWarning,
    Refiner,
    refine,
    refine_to_end,
)
from core.refine.search import Candidate, Search
from core.refine.space import ParamSpace

__all__ = [
    "DEFAULT_BUDGET_EVALS",
    "DEFAULT_BUDGET_SECONDS",
    "DEFAULT_METHOD",
    "LOSSES",
    "METHODS",
    "Candidate",
    "CatCMASearch",
    "FlatTargetWarning",
    "Loss",
    "MultiStartCMA",
    "ParamSpace",
    "ProgressEvent",
    "Refiner",
    "Search",
    "SsimLumLoss",
    "alternative_starts",
    "make_loss",
    "refine",
    "refine_to_end",
]
