"""Explore-tab adapter: the one place that knows `core.explore`'s interface.

`core.explore` is not in this build yet; until it lands `explore_available()` says so and the tab shows
the message. The expected interface (issue 6) mirrors `core.refine.Refiner`: an `Explorer(seed_params,
judge=..., store=..., evals=..., seed_id=...)` with `cancel()` and `run()` yielding events that carry
`evaluations`, `best_score`, `best_image`, `latest` ([(image, score), ...]) and `done`. Adjust
`_to_update` here, and nothing else, when the real module differs.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.store import Store

NOT_AVAILABLE = "Exploration is not available yet: `core.explore` is not installed in this build."


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
    """(True, "") when core.explore can be imported, else (False, why)."""
    if importlib.util.find_spec("core.explore") is None:
        return False, NOT_AVAILABLE
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
    """Run an exploration from `seed_params` with the judge spec `judge`, yielding UI updates."""
    ok, why = explore_available()
    if not ok:
        yield ExploreUpdate(why, done=True)
        return
    explore = importlib.import_module("core.explore")
    explorer = explore.Explorer(seed_params, judge=judge, store=store, evals=evals, seed_id=seed_id)
    if on_start is not None:
        on_start(explorer)
    for event in explorer.run():
        yield _to_update(event)


def _to_update(event: Any) -> ExploreUpdate:
    done = bool(getattr(event, "done", False))
    evaluations = int(getattr(event, "evaluations", 0))
    best = getattr(event, "best_score", None)
    latest = [(image, f"{score:g}") for image, score in getattr(event, "latest", [])]
    shown = "—" if best is None else f"{best:g}"
    status = f"{'Done' if done else 'Exploring…'} {evaluations} evaluations; best {shown}"
    return ExploreUpdate(status, evaluations, best, getattr(event, "best_image", None), latest, done)
