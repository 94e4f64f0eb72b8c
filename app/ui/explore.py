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
import pandas as pd

from app.ui import resources
from app.ui.pool import score_text
from core.explore import ExploreConfig, ExploreEvent, Explorer, listing, next_rng_seed
from core.store import Run, Store, StoreError

HISTORY_COLUMNS = ["evaluations", "score", "series"]
SERIES = ("best so far", "generation best", "find threshold")
MAX_EVALS = 100_000
"""The Evaluations field's bound (hours with the proxy judge, days with a VLM): 1e30 used to fail in
gradio's JSON ("Integer exceeds 64-bit range") while the run went on unseen."""


@dataclass(frozen=True)
class ExploreUpdate:
    """One exploration progress step for the UI. history: the score plot's rows (HISTORY_COLUMNS, one
    point per series per generation; None until a judgement succeeded: an empty frame would make
    gr.LinePlot fix its colour scale and never draw the lines)."""

    status: str
    evaluations: int = 0
    best_score: float | None = None
    best_image: np.ndarray | None = None
    latest: list[tuple[np.ndarray, str]] = field(default_factory=list)
    done: bool = False
    history: pd.DataFrame | None = None


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
    workers: int = ExploreConfig.workers,
    on_start: Callable[[Any], None] | None = None,
) -> Iterator[ExploreUpdate]:
    """Run an exploration from `seed_params` (pool seed `seed_id`, or saved now) judged by spec `judge`.

    workers: rendering processes; the app passes its refine setting, so both use one shared pool
    (core.shared_pool) rather than shutting down each other's pool of another size."""
    scorer = resources.judge_for(judge)
    scorer.prepare()  # an unknown judge or a VLM server that is down fails here, before a seed is saved
    if seed_id is None:  # the match saved once, however often it is explored
        seed_id = store.find_seed(seed_params) or store.add_seed(
            seed_params, source="manual", label="exploration start (current match)"
        )
    config = ExploreConfig(evals=evals, workers=max(1, workers), rng_seed=next_rng_seed(store, seed_id))
    explorer = Explorer.start(store, scorer, seed_id, config, judge_spec=judge, shared_pool=True)
    yield from _stream(explorer, on_start)


def resume_updates(
    store: Store,
    run_id: int,
    *,
    workers: int = ExploreConfig.workers,
    on_start: Callable[[Any], None] | None = None,
) -> Iterator[ExploreUpdate]:
    """Go on with an unfinished run (stopped, failed, or left `running` by an app or CLI that was killed),
    judged by the judge it was started with. Its recorded steps are replayed, not judged again, so the
    plot is redrawn from the start; the CLI's `--resume N` does the same."""
    if refused := resume_refusal(store, run_id):
        raise StoreError(refused)
    run = store.get_run(run_id)
    scorer = resources.judge_for(str(run.config.get("judge") or "proxy"))
    scorer.prepare()
    yield from _stream(Explorer(store, scorer, run_id, workers=max(1, workers), shared_pool=True), on_start)


def resume_refusal(store: Store, run_id: int) -> str | None:
    """Why run `run_id` cannot be resumed here, in words (None: it can): core.explore.listing's reasons, and
    a run this app drives already. Said as a refusal, not as a failed exploration; Explorer.run takes the
    run atomically all the same."""
    if run_id in _active:
        return f"Run {run_id} is running in this app already: Stop it first."
    refused = listing.resume_refusal(store, run_id)
    return None if refused is None else refused[0].upper() + refused[1:] + "."


_active: set[int] = set()
"""Runs this process is driving now: listed as running, not as unfinished, and never resumed twice."""


def unfinished_runs(store: Store) -> list[Run]:
    """Exploration runs not done and not driven by this app, newest first (core.explore.listing)."""
    return listing.unfinished_runs(store, exclude=_active)


def unfinished_note(store: Store) -> str:
    """A line per unfinished run (at most 5) for the Explore tab, or "" when there are none."""
    runs = unfinished_runs(store)
    if not runs:
        return ""
    lines = [f"- {listing.describe_run(run, bold=True)}" for run in runs[:5]]
    more = f"\n- … and {len(runs) - 5} more" if len(runs) > 5 else ""
    return "Unfinished runs (enter an id under *Resume run*):\n" + "\n".join(lines) + more


def _stream(explorer: Explorer, on_start: Callable[[Any], None] | None) -> Iterator[ExploreUpdate]:
    """The updates of one run: its events, with the score plot's rows grown as they come."""
    if on_start is not None:
        on_start(explorer)
    rows: list[tuple[int, float, str]] = []
    best: float | None = None
    _active.add(explorer.run_id)
    try:
        for event in explorer.run():
            if not rows or rows[-1][0] != event.evaluations:  # the final event repeats the last generation
                rows += history_rows(event, explorer.config.threshold, best)
                best = event.best_score
            yield _to_update(event, pd.DataFrame(rows, columns=HISTORY_COLUMNS) if rows else None)
    finally:
        _active.discard(explorer.run_id)


def history_rows(
    event: ExploreEvent, threshold: float, previous_best: float | None = None
) -> list[tuple[int, float, str]]:
    """The plot's points for one event: the best score so far, the generation's best judged score and the
    find threshold (so a user sees how far the run is from adding finds), at the event's evaluation count.
    A generation whose judgements all failed adds no "generation best" point. The generation's point comes
    first: the plot draws series in the order they appear, and the best so far, which equals it whenever a
    generation brings a new best, must stay visible on top (it was hidden under it).

    The best so far is a step: where a candidate of the generation beat `previous_best` (the last event's),
    it rises over that one evaluation, flat before and after. Joined from one generation's end to the next,
    it read as a steady climb the run did not make."""
    if event.best_score is None:
        return []
    rows = []
    scores = [item.score for item in event.latest if item.score is not None]
    if scores:
        rows.append((event.evaluations, max(scores), SERIES[1]))
    rows += _steps(event, previous_best)
    rows.append((event.evaluations, event.best_score, SERIES[0]))
    rows.append((event.evaluations, threshold, SERIES[2]))
    return rows


def _steps(event: ExploreEvent, running: float | None) -> list[tuple[int, float, str]]:
    """The best so far's corners inside the event's generation: (step, the old best), (step + 1, the new)
    for each candidate that beat it (step: the evaluation's index from 0, so a generation's steps run from
    the last event's evaluation count to this one's). A corner where a point already stands (the last
    event's, this event's) is left out. None before the run's first score: nothing to step from."""
    if running is None or not event.latest:
        return []
    ordered = sorted(event.latest, key=lambda item: item.step)
    corners = []
    for item in ordered:
        if item.score is None or item.score <= running:
            continue
        if item.step != ordered[0].step:
            corners.append((item.step, running, SERIES[0]))
        if item.step + 1 != event.evaluations:
            corners.append((item.step + 1, item.score, SERIES[0]))
        running = item.score
    return corners


NO_SCORE = (
    "The judge gave no usable score for any candidate (each is kept with its raw answer): check the judge "
    "in Settings, or use the proxy judge"
)


def _to_update(event: ExploreEvent, history: pd.DataFrame | None = None) -> ExploreUpdate:
    latest = [
        (item.image, "judge failed" if item.score is None else score_text(item.score))
        for item in event.latest
        if item.image is not None
    ]
    best = "—" if event.best_score is None else score_text(event.best_score)
    seeds = sum(f.seed_id is not None for f in event.finds)
    if event.stop_reason == "cancelled":  # "Done" read as if the budget had been spent
        progress = f"Stopped run {event.run_id} at {event.evaluations} of {event.budget} evaluations"
    else:
        state = "Done" if event.done else "Exploring…"
        progress = f"{state} run {event.run_id}: {event.evaluations}/{event.budget} evaluations"
    status = (
        f"{progress}, best {best}, "
        f"{len(event.finds)} finds ≥ threshold ({seeds} new seeds{seed_words(event.extraction)})"
    )
    if event.done and event.best_score is None and event.evaluations:
        status = f"⚠️ {status}. {NO_SCORE}"
    return ExploreUpdate(
        status, event.evaluations, event.best_score, event.best_image, latest, event.done, history
    )


def seed_words(extraction: str) -> str:
    """How the finds became pool seeds, for the status line: "cnn: inverse model" read as jargon."""
    if extraction.startswith("cnn:"):
        return ", each the inverse model's reading of the find's image: the closed loop"
    return f"; {extraction}" if extraction else ""
