"""Where a run starts: a seed of the pool, the CNN's reading of an image, or given params.

Every start becomes a seed row first (params the pool holds reuse theirs), so each run has a `seed_id`
and every find's lineage leads back to what the run started from (an image's extraction is stored with
source "cnn", given params as "manual").
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.imageio import to_uint8
from core.store import Store

from .extract import Extractor


class SeedError(ValueError):
    """A start that cannot be used: the message says why and what to pass instead."""


def seed_from_image(
    store: Store, image: Any, extractor: Extractor | None, *, origin: str | None = None
) -> int:
    """Extract params from `image` (path, array, PIL image) and add them as a "cnn" seed; returns its id."""
    if extractor is None:
        raise SeedError(
            "a seed image needs the inverse model (models/inverse.pt); train it first, "
            "or start from --seed-id or --seed-params"
        )
    if origin is None and isinstance(image, str | os.PathLike):
        origin = str(Path(image).resolve())
    params = extractor(to_uint8(image))
    return store.find_seed(params) or store.add_seed(
        params, source="cnn", origin=origin, notes="inverse-model reading of a seed image"
    )


def read_params(spec: str | Mapping[str, Any]) -> dict[str, Any]:
    """Params from a mapping, a JSON object string, or a JSON file path (flat, prefixed or wrapped)."""
    if isinstance(spec, Mapping):
        return dict(spec)
    text = spec.strip()
    if not text.startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise SeedError(f"--seed-params: {text!r} is neither a JSON object nor a file")
        text = path.read_text(encoding="utf-8")
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SeedError(f"--seed-params is not valid JSON: {exc}") from exc
    if not isinstance(params, dict):
        raise SeedError("--seed-params must be a JSON object of renderer params")
    return params


def seed_from_params(store: Store, params: str | Mapping[str, Any]) -> int:
    """Given params (mapping, JSON text or file) as a "manual" seed; returns its id (the pool's own seed
    when it holds them already: each rerun of a command used to add a copy)."""
    params = read_params(params)
    return store.find_seed(params) or store.add_seed(
        params, source="manual", notes="given to an exploration run"
    )
