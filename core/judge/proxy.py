"""The offline PROXY judge: ImageNet-embedding similarity to the reference designs, not a VLM.

It needs no download and scores in tens of milliseconds, so exploration, tests and benchmarks run
anywhere; it is a stand-in for taste, not taste, and says so in its name and in every rationale.

Score (1–10), per reference set (cached):
* `sim`   — cosine similarity of the candidate's efficientnet-lite0 embedding to its nearest reference;
* `floor` — the same for an all-black image (what "nothing" scores against these references) → 1;
* `nine`  — how similar the references are to each other (mean nearest-neighbour cosine, leave-one-out)
  → 9: "as close to a reference as the references are to each other"; with a single reference, the point
  NINE_FRACTION of the way from `floor` to 1 (what the four shared designs give); linear in between,
  clipped to [1, 10];
* exposure penalties shrink the score towards 1: near-empty (under EMPTY_LIT of pixels lit) and blown out
  (more than BLOWN_START of pixels saturated, fully penalised at BLOWN_FULL). The designs are 64–96 %
  black, so darkness itself is not penalised, only emptiness.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import Judge, Judgement, Preference
from .context import JudgeContext, resolve_references
from .embedding import PIXEL_BUDGET, shared_embedder

NAME = "proxy:efficientnet-lite0-imagenet"
LABEL = "PROXY judge (ImageNet-embedding similarity to the references, not a VLM)"

NINE_FRACTION = 0.5
"""One reference: 9 sits this far from black's similarity to identity (the four shared designs: 0.51)."""
MIN_SPAN = 0.05
LIT_LEVEL, EMPTY_LIT = 0.05, 0.02
"""A pixel is lit above luminance LIT_LEVEL; under EMPTY_LIT of pixels lit, the score shrinks linearly."""
SATURATED_LEVEL, BLOWN_START, BLOWN_FULL = 0.9, 0.10, 0.40
"""Saturated above luminance SATURATED_LEVEL; penalty from BLOWN_START of pixels, score 1 at BLOWN_FULL."""
TIE_MARGIN = 0.25
"""Pairwise: score differences below this are a tie."""

_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


@dataclass(frozen=True)
class _Calibration:
    names: tuple[str, ...]
    embeddings: np.ndarray  # (n, d), unit rows
    floor: float
    nine: float


class ProxyJudge(Judge):
    """Offline proxy judge; `budget` is the embedder's input area in px (speed vs detail)."""

    name = NAME

    def __init__(self, budget: int = PIXEL_BUDGET) -> None:
        self.budget = budget
        self._calibrations: dict[tuple[str, ...], _Calibration] = {}
        self._last: tuple[JudgeContext | None, _Calibration] | None = None

    @classmethod
    def from_spec(cls, arg: str, **options: Any) -> ProxyJudge:
        if arg:
            raise ValueError(f"the proxy judge takes no argument after 'proxy:', got {arg!r}")
        return cls(**options)

    def prepare(self, context: JudgeContext | None = None) -> None:
        self._calibration(context)

    def score(self, image: Any, context: JudgeContext | None = None) -> Judgement:
        calibration = self._calibration(context)
        embedder = shared_embedder(self.budget)
        small = embedder.prepare(image)
        sims = calibration.embeddings @ embedder.embed_prepared(small)
        nearest = int(np.argmax(sims))
        sim = float(sims[nearest])
        raw_score = float(
            np.clip(1.0 + 8.0 * (sim - calibration.floor) / (calibration.nine - calibration.floor), 1, 10)
        )
        luma = small @ _LUMA
        lit, saturated = float((luma > LIT_LEVEL).mean()), float((luma > SATURATED_LEVEL).mean())
        empty_factor = min(1.0, lit / EMPTY_LIT)
        blown_factor = 1.0 - float(np.clip((saturated - BLOWN_START) / (BLOWN_FULL - BLOWN_START), 0, 1))
        score = 1.0 + (raw_score - 1.0) * min(empty_factor, blown_factor)
        penalties = [
            *([f"near-empty (only {lit:.1%} of pixels lit)"] if empty_factor < 1 else []),
            *([f"blown out ({saturated:.0%} of pixels saturated)"] if blown_factor < 1 else []),
        ]
        rationale = (
            f"{LABEL}: nearest reference {calibration.names[nearest]}, cosine {sim:.3f} "
            f"(black {calibration.floor:.3f} → 1, references to each other {calibration.nine:.3f} → 9)"
            + (f"; penalised: {', '.join(penalties)}" if penalties else "")
        )
        raw = json.dumps(
            {
                "proxy": True,
                "similarity": round(sim, 5),
                "nearest": calibration.names[nearest],
                "floor": round(calibration.floor, 5),
                "nine": round(calibration.nine, 5),
                "unpenalised": round(raw_score, 4),
                "lit": round(lit, 5),
                "saturated": round(saturated, 5),
            }
        )
        return Judgement(score=round(score, 4), rationale=rationale, judge=self.name, raw=raw)

    def compare(self, candidate: Any, incumbent: Any, context: JudgeContext | None = None) -> Preference:
        a, b = self.score(candidate, context), self.score(incumbent, context)
        diff = a.score - b.score
        choice = "tie" if abs(diff) < TIE_MARGIN else ("candidate" if diff > 0 else "incumbent")
        return Preference(
            choice=choice,  # type: ignore[arg-type]
            rationale=f"{LABEL}: candidate {a.score:.2f} vs incumbent {b.score:.2f}",
            judge=self.name,
            raw=json.dumps({"candidate": json.loads(a.raw), "incumbent": json.loads(b.raw)}),
            extra={"candidate": a.score, "incumbent": b.score},
        )

    def _calibration(self, context: JudgeContext | None) -> _Calibration:
        if context is not None and self._last is not None and self._last[0] is context:
            return self._last[1]  # the same context object again: skip re-hashing its reference arrays
        references = resolve_references(context)
        key = tuple(ref.key for ref in references)
        if key not in self._calibrations:
            embedder = shared_embedder(self.budget)
            embeddings = np.stack([embedder(ref.pixels) for ref in references])
            black = embedder(np.zeros_like(references[0].pixels))
            floor = float((embeddings @ black).max())
            nine = (
                _mutual_similarity(embeddings) if len(references) > 1 else floor + NINE_FRACTION * (1 - floor)
            )
            self._calibrations[key] = _Calibration(
                names=tuple(ref.name for ref in references),
                embeddings=embeddings,
                floor=floor,
                nine=max(nine, floor + MIN_SPAN),
            )
        self._last = (context, self._calibrations[key])
        return self._calibrations[key]


def _mutual_similarity(embeddings: np.ndarray) -> float:
    """Mean over references (two or more) of the cosine to their nearest other reference."""
    gram = embeddings @ embeddings.T
    np.fill_diagonal(gram, -np.inf)
    return float(gram.max(axis=1).mean())
