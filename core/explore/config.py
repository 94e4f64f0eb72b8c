"""What an exploration run is: every setting that shapes its candidates, stored with the run.

A run is replayed from its config plus its recorded ratings (see `explorer`), so everything that changes
which candidates are asked lives here and is written to the store; only `workers` may differ on resume
(results are used in step order whatever the worker count).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from core.argtypes import MAX_SEED
from core.refine.refiner import METHODS
from core.render.twin import MAX_SIDE
from core.store import GALLERY_MIN_SCORE

DEFAULT_EVALS = 500
DEFAULT_SIZE = (256, 144)
"""Judged render size: ≈ the proxy judge's 192² pixel budget at the designs' ≈ 16:9 aspect, so no pixel is
rendered only to be thrown away; a VLM judge may want more (--width/--height)."""


@dataclass(frozen=True)
class ExploreConfig:
    """Settings of one run.

    evals: evaluations in all (the seed's own included). population: candidates per generation (None:
    the optimiser's default, 4 + 3 ln n). sigma: initial step in the refiner's [0, 1] coordinates.
    method: a core.refine method ("catcma": continuous and categoricals jointly; "cma": continuous with
    categoricals fixed per start). rng_seed: the optimiser's seed. threshold: a find (gallery + closed
    loop) scores at least this. novelty / novelty_radius: repulsion from earlier finds (see `novelty`);
    novelty 0 disables it; the radius is half the median distance between distinct curated designs (see
    `novelty.DESCRIPTOR_SIZE`). duplicate_radius: a find this close to an earlier promoted find stays in
    the gallery but is not promoted to a seed (a little more than what a step of σ = 0.01 changes: the
    same design to a person, and a second start point there adds nothing to the pool). width, height,
    quality: the judged render. images: "finds" keeps the gallery's renders as files; "all" keeps every
    judged render (the renderer is deterministic, so any rating's image can be re-rendered from its
    params; writing every PNG cost ≈ 12 ms per evaluation with the proxy judge, ≈ 15 %). workers:
    rendering processes.
    """

    evals: int = DEFAULT_EVALS
    population: int | None = None
    sigma: float = 0.1
    method: str = "catcma"
    cat_confidence: float = 0.6
    rng_seed: int = 0
    threshold: float = GALLERY_MIN_SCORE
    novelty: float = 4.0
    novelty_radius: float = 0.2
    duplicate_radius: float = 0.1
    width: int = DEFAULT_SIZE[0]
    height: int = DEFAULT_SIZE[1]
    quality: str = "fast"
    images: str = "finds"
    workers: int = 2

    def __post_init__(self) -> None:
        if self.evals < 1:
            raise ValueError(f"evals must be ≥ 1, not {self.evals}")
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}: choose one of {sorted(METHODS)}")
        if not 0.0 < self.sigma <= 1.0:  # in [0, 1] units of each range; CMA-ES asserted on -1 mid-run
            raise ValueError(f"sigma must be in (0, 1], not {self.sigma}")
        if not 0 <= self.rng_seed <= MAX_SEED:
            raise ValueError(f"rng_seed must be 0 to {MAX_SEED}, not {self.rng_seed}")
        if not (1 <= self.width <= MAX_SIDE and 1 <= self.height <= MAX_SIDE):
            size = f"{self.width}x{self.height}"
            raise ValueError(f"the judged render is 1 to {MAX_SIDE} px a side, not {size}")
        if self.population is not None and self.population < 2:
            raise ValueError(f"population must be ≥ 2, not {self.population}")
        if not 1.0 <= self.threshold <= 10.0:
            raise ValueError(f"threshold must be in [1, 10], not {self.threshold}")
        if self.novelty < 0 or self.novelty_radius <= 0 or self.duplicate_radius < 0:
            raise ValueError("novelty ≥ 0, novelty_radius > 0 and duplicate_radius ≥ 0 are required")
        if self.images not in ("all", "finds"):
            raise ValueError(f"images must be 'all' or 'finds', not {self.images!r}")
        if self.workers < 1:
            raise ValueError(f"workers must be ≥ 1, not {self.workers}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], **overrides: Any) -> ExploreConfig:
        """From a stored config (unknown keys ignored, so older/newer runs still load)."""
        known = {f.name for f in fields(cls)}
        return replace(cls(**{k: v for k, v in data.items() if k in known}), **overrides)
