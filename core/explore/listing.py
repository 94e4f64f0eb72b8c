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


def resume_refusal(store: Store, run_id: int) -> str | None:
    """Why run `run_id` cannot be resumed, in words (None: it can), asked before a VLM is made ready: the
    app and the CLI refuse alike. A finished run used to be replayed by the CLI, its finds printed again as
    new, and marked failed when its VLM was down. StoreError when there is no such run."""
    run = store.get_run(run_id)
    if run.kind != KIND:
        return f"run {run_id} is a {run.kind} run, not an exploration"
    if run.status == "done":
        evaluations = run.progress.get("evaluations", "?")
        return (
            f"run {run_id} has finished ({evaluations} evaluations): nothing is left to resume; start a new "
            "exploration from its seed for more"
        )
    holder = holder_of(run)
    if holder is not None:
        return f"run {run_id} is being driven by {holder}: stop it there first"
    return None


def describe_run(run: Run, *, bold: bool = False) -> str:
    """One line: "run 7 from seed 3: 40 of 400 evaluations, stopped"."""
    run_id = f"**{run.id}**" if bold else str(run.id)
    state = run_state(run)
    if state == "failed" and run.error:  # the reason, so the user knows what to mend before resuming
        state += f" ({_short(run.error)})"
    return (
        f"run {run_id} from seed {run.seed_id}: {run.progress.get('evaluations', 0)} of "
        f"{run.config.get('evals', '?')} evaluations, {state}"
    )


def _short(text: str, limit: int = 120) -> str:
    """The first line of `text`, cut to `limit` characters."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
