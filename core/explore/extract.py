"""The closed loop: a find's render → params through the inverse model → a new seed with lineage.

Why extract instead of storing the find's own params: a find's params are a point the strategy drifted
to, while the CNN's reading of the picture is what the model will propose for designs that look like it;
storing that reading (source "cnn") grounds the pool in what the model can reach. When no checkpoint
exists yet, exploration still works: finds are stored with their own params (source "explore") and the
run says that extraction was skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.store import Rating, Store

Extractor = Callable[[np.ndarray], dict[str, Any]]
"""A uint8 (H, W, 3) image → complete flat SceneParams."""


@dataclass(frozen=True)
class ExtractorChoice:
    """An extractor, or None with the reason it is unavailable (shown in progress and CLI output)."""

    extract: Extractor | None
    note: str


def cnn_extractor(path: str | os.PathLike[str] | None = None) -> Extractor:
    """The inverse model's top-1 reading of an image; raises CheckpointError when there is no checkpoint."""
    from core.inverse import load_model, predict

    model = load_model(path)

    def extract(image: np.ndarray) -> dict[str, Any]:
        return predict(model, image, top_k=1).params

    return extract


def default_extractor(path: str | os.PathLike[str] | None = None) -> ExtractorChoice:
    """The CNN extractor when its checkpoint loads, else None with the reason (never raises)."""
    try:
        return ExtractorChoice(cnn_extractor(path), "cnn: inverse model")
    except (ImportError, OSError, RuntimeError) as exc:  # CheckpointError is a RuntimeError
        return ExtractorChoice(None, f"extraction skipped: {exc}")


def promote_find(
    store: Store, rating: Rating, image: np.ndarray, extraction: ExtractorChoice
) -> tuple[int | None, str | None]:
    """Make a find a seed (parent: its run's seed; rating: the find); returns (seed id, source).

    Source "cnn" with the extractor's reading of `image`; "explore" with the find's own params when there
    is no extractor or it fails on this image (the find is already saved either way; the notes say why).
    (None, None) when the pool already holds exactly those params: a repeated run, or two finds the model
    reads alike, used to add one copy per find (54 seeds, 18 distinct, after three runs from one seed).
    """
    note = f"{rating.judge} {rating.score:g}/10: {rating.rationale}"
    params, source = rating.params, "explore"
    if extraction.extract is not None:
        try:
            params, source = extraction.extract(image), "cnn"
        except Exception as exc:  # any model error: keep the find's own params and record the reason
            note += f" [extraction failed: {type(exc).__name__}: {exc}]"
    else:
        note += f" [{extraction.note}]"
    if store.find_seed(params) is not None:
        return None, None
    return store.promote(rating.id, params=params, source=source, notes=note), source
