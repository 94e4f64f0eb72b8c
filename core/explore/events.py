"""Progress of an exploration as plain values: what the app draws and the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Evaluated:
    """One judged candidate. score None: the judge failed (recorded as a failure, never a number).
    fitness: what the strategy was told (score minus the novelty penalty). replayed: taken from the store
    on resume, not judged again. image: the judged render (None for a replayed step that did not need it)."""

    step: int
    params: dict[str, Any]
    score: float | None
    fitness: float
    rating_id: int
    rationale: str
    penalty: float = 0.0
    replayed: bool = False
    image: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Find:
    """A candidate scoring at least the threshold: in the gallery as `rating_id`; `seed_id` is the seed the
    closed loop made of it (None for a near-duplicate of an earlier find of the run, or params the pool
    already holds); `source` "cnn" when
    the inverse model extracted its params, "explore" when extraction was skipped."""

    step: int
    rating_id: int
    score: float
    seed_id: int | None
    source: str | None


@dataclass(frozen=True)
class ExploreEvent:
    """Where a run stands: one event after the seed, one per generation, a final one with done=True.

    evaluations: steps done (replayed ones included), out of `budget`. best_*: the highest judge score so
    far (None before any successful judgement) and its params / rating id / render. latest: the candidates
    of the last generation. finds: every find of the run so far (new_finds: those since the last event).
    extraction: how finds become seeds ("cnn: …" or "extraction skipped: …"). stop_reason: "budget",
    "cancelled" on the final event.
    """

    run_id: int
    evaluations: int
    budget: int
    generation: int
    best_score: float | None
    best_params: dict[str, Any] | None
    best_rating_id: int | None
    latest: tuple[Evaluated, ...]
    finds: tuple[Find, ...]
    new_finds: tuple[Find, ...]
    replayed: int
    extraction: str
    elapsed: float
    best_image: np.ndarray | None = field(default=None, repr=False)
    done: bool = False
    stop_reason: str | None = None

    def progress(self) -> dict[str, Any]:
        """The JSON progress record the store keeps for the run (what another process or the app reads)."""
        return {
            "evaluations": self.evaluations,
            "budget": self.budget,
            "generation": self.generation,
            "best_score": self.best_score,
            "best_rating_id": self.best_rating_id,
            "finds": len(self.finds),
            "seeds": sum(f.seed_id is not None for f in self.finds),
            "replayed": self.replayed,
            "extraction": self.extraction,
            "elapsed_s": round(self.elapsed, 3),
            "latest": [
                {"step": e.step, "score": e.score, "fitness": round(e.fitness, 4), "rating_id": e.rating_id}
                for e in self.latest
            ],
            "done": self.done,
            "stop_reason": self.stop_reason,
        }
