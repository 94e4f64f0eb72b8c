"""Explore-tab adapter: the one place that knows `core.explore`'s interface.

A run starts from a pool seed (or the current match, saved as a seed first so the run has lineage), is
judged by the judge spec of the Settings or the dropdown, and streams `ExploreEvent`s turned into UI
updates. `cancel()` on the held Explorer stops it; the run stays resumable from the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.ui import resources
from core.explore import ExploreConfig, ExploreEvent, Explorer
from core.store import Store


@dataclass(frozen=True)
class ExploreUpdate:
    """One exploration progress step for the UI."""

    status: str
    evaluations: int = 0
    best_score: float | None = None
    best_image: np.ndarray | None = None
    latest: list[tuple[np.ndarray, str]] = field(default_factory=list)
    done: bool = False


def explore_available() -> tuple[bool, str]:
    """Exploration is part of this build; kept so the tab can say why when a judge cannot load."""
    return True, ""


def explore_updates(
    seed_params: dict[str, Any],
    judge: str,
    store: Store,
    *,
    evals: int,
    seed_id: int | None = None,
    on_start: Callable[[Any], None] | None = None,
) -> Iterator[ExploreUpdate]:
    """Run an exploration from `seed_params` (pool seed `seed_id`, or saved now) judged by spec `judge`."""
    if seed_id is None:
        seed_id = store.add_seed(seed_params, source="manual", label="exploration start (current match)")
    explorer = Explorer.start(
        store, resources.judge_for(judge), seed_id, ExploreConfig(evals=evals), judge_spec=judge
    )
    if on_start is not None:
        on_start(explorer)
    for event in explorer.run():
        yield _to_update(event)


def _to_update(event: ExploreEvent) -> ExploreUpdate:
    latest = [
        (item.image, "judge failed" if item.score is None else f"{item.score:g}")
        for item in event.latest
        if item.image is not None
    ]
    best = "—" if event.best_score is None else f"{event.best_score:g}"
    state = "Done" if event.done else "Exploring…"
    seeds = sum(f.seed_id is not None for f in event.finds)
    status = (
        f"{state} run {event.run_id}: {event.evaluations}/{event.budget} evaluations, best {best}, "
        f"{len(event.finds)} finds ≥ threshold ({seeds} new seeds); {event.extraction}"
    )
    return ExploreUpdate(status, event.evaluations, event.best_score, event.best_image, latest, event.done)
