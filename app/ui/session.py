"""One browser session's state (held in a `gr.State`, so sessions never see each other's)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.ui.settings import Settings

MAX_ATTEMPTS = 8
"""Finished refinements of a target kept in the gallery of starts (the newest), so it stays one screen."""


@dataclass
class Session:
    """settings: this session's copy; home: the launch data directory (where settings.json lives).
    target: the uploaded design as (H, W, 3) float32 RGB; target_name: its file name; target_id: bumped on
    every upload, so a refine of an older target never writes into a newer one. params: the current best
    flat params (prediction, then refine result); alternatives: the runner-up first guesses refinement
    also starts from (emptied once params come from a refine); choices: the first guesses shown in the
    gallery as (caption, params), best first; source: how they were found (a store seed
    source: cnn, refine, manual). report: the current match report. refine_job / explore_job: the running
    refine and the running exploration (anything with `cancel()`), one slot each: the Match tab's actions
    stop only its refine and the Explore tab's only its run (one slot stopped the other's work unsaid).
    explore_seed_id: the pool seed picked on the Explore tab. refines: the
    refinements started on this target; each seeds its search with that count, so clicking Refine again
    (or refining the same first guess twice) is a fresh attempt, and the same clicks under an evaluation
    budget give the same results (a time budget ends where the machine's speed says). attempts: the
    finished refinements of this target as (caption, params), newest first; the gallery shows them
    before the first guesses, so a designer can go back to an earlier, better attempt. pick_id: bumped
    when the designer picks a start in that gallery, so a refine that ends after the pick joins the
    gallery without replacing the pick. preparing: an upload's first guess is being made (params are
    None meanwhile, so nothing refines the last design's match against this one). refining: a refine
    of this session runs (its best so far is not yet the match a Save would keep)."""

    settings: Settings = field(default_factory=Settings)
    home: str = "data"
    target: np.ndarray | None = None
    target_name: str = ""
    target_id: int = 0
    params: dict[str, Any] | None = None
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    choices: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    source: str = "manual"
    report: dict[str, Any] | None = None
    refine_job: Any = None
    explore_job: Any = None
    explore_seed_id: int | None = None
    refines: int = 0
    attempts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    pick_id: int = 0
    preparing: bool = False
    refining: bool = False

    def gallery(self) -> list[tuple[str, dict[str, Any]]]:
        """What the starts gallery shows, in order: the refined attempts, then the first guesses."""
        return [*self.attempts, *self.choices]

    def cancel_refine(self) -> bool:
        """Ask the running refine to stop; True when there was one."""
        job, self.refine_job = self.refine_job, None
        return _cancelled(job)

    def cancel_explore(self) -> bool:
        """Ask the running exploration to stop; True when there was one."""
        job, self.explore_job = self.explore_job, None
        return _cancelled(job)

    def cancel_all(self) -> bool:
        """Stop both (the session is closing); True when either ran."""
        return self.cancel_refine() | self.cancel_explore()


def _cancelled(job: Any) -> bool:
    if job is None:
        return False
    job.cancel()
    return True
