"""Unfinished exploration runs in words, for the app's Explore tab and `python -m core.explore --list`."""

from __future__ import annotations

from collections.abc import Collection

from core.store import Run, Store
from core.store.holders import holder_of

from .explorer import KIND

UNFINISHED_STATUS = {"cancelled": "stopped", "failed": "failed", "running": "interrupted"}


def unfinished_runs(store: Store, exclude: Collection[int] = ()) -> list[Run]:
    """Exploration runs not done, newest first, but those in `exclude` (what the caller drives itself):
    stopped, failed, left `running` by a process that died (all resumable), or driven by another live
    process (core.store.holders)."""
    return [run for run in store.runs(kind=KIND) if run.status != "done" and run.id not in exclude]


def run_state(run: Run) -> str:
    """ "stopped", "failed", "interrupted" (its process died), or "running in process N on this machine"."""
    holder = holder_of(run)
    if holder is not None:
        return f"running in {holder}"
    return UNFINISHED_STATUS.get(run.status, run.status)


def describe_run(run: Run, *, bold: bool = False) -> str:
    """One line: "run 7 from seed 3: 40 of 400 evaluations, stopped"."""
    run_id = f"**{run.id}**" if bold else str(run.id)
    return (
        f"run {run_id} from seed {run.seed_id}: {run.progress.get('evaluations', 0)} of "
        f"{run.config.get('evals', '?')} evaluations, {run_state(run)}"
    )
