"""Progress of a refinement as plain values: one event per generation, a final one with done=True."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ProgressEvent:
    """Where a refinement stands.

    evaluations: renders scored so far at the working size (the start included; the end-of-run checks'
    full-size renders are not counted). generation: batches told to the optimiser.
    best_loss: the lowest loss so far (the loss's own units; lower is better). batch_loss: the lowest loss
    of the last batch (what a live plot draws beside best_loss). best_params: complete flat params of the
    best so far. best_report: the match report of the best (see core.metrics.match_report) at the loss's
    working size, refreshed every `report_every` evaluations, and on the final event the full report at
    512 px; None until the first is due. preview: uint8 (h, w, 3) render of the best at the target's
    aspect, attached every `preview_every` evaluations when the best has changed, and on the final event;
    else None. elapsed: seconds since `run()` began. done: the last event of the run; stop_reason says why
    ("budget_evals", "budget_seconds", "cancelled"), None before. The final event keeps the given start
    instead of the search's best when the start scores better under the same loss at 512 px (then its
    best_loss is the start's, the one value that can rise on the last event).
    """

    evaluations: int
    generation: int
    best_loss: float
    batch_loss: float
    best_params: dict[str, Any]
    elapsed: float
    method: str
    best_report: dict[str, Any] | None = None
    preview: np.ndarray | None = field(default=None, repr=False)
    done: bool = False
    stop_reason: str | None = None


def advance_bar(bar: Any, event: ProgressEvent) -> None:
    """Move a tqdm bar (unit: evaluations) to `event` and show its best loss: the command-line view of a
    run, shared by `python -m core.refine` and `train.validate`."""
    bar.update(event.evaluations - bar.n)
    bar.set_postfix(best_loss=f"{event.best_loss:.4f}", refresh=False)
