"""What every optimiser here looks like: a plain ask/tell loop over a ParamSpace that the caller owns.

`ask()` returns one generation of candidates, `tell(losses)` takes their losses in the same order. No
optimiser renders, times or prints anything; the refiner does that, so budgets, cancellation and progress
work the same for every method.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class Candidate:
    """A point of the space (x continuous coordinates, c option indices) and its decoded params."""

    x: np.ndarray
    c: np.ndarray
    params: dict[str, Any]


class Search(Protocol):
    """One generation at a time; `tell` must get exactly the losses of the last `ask`, in order."""

    def ask(self) -> list[Candidate]: ...

    def tell(self, losses: Sequence[float]) -> None: ...


def clip_loss(value: float, ceiling: float = 1e6) -> float:
    """A finite loss for the optimiser's ranking (a failed render scores worst, not NaN)."""
    return value if np.isfinite(value) and value < ceiling else ceiling
