"""The store's records as frozen dataclasses, and the one JSON/hash convention for parameters.

Parameters are kept in the flat SceneParams form of `core.params` (including its lossless conversion
metadata), so every reader sees one form; `params_key` identifies a parameter set independently of key
order, which is how a resumed run recognises what it already rated.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.params import ParamsError, detect_form, to_scene_params, validate

from .errors import StoreError


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python numbers and lists (params built with numpy, as `validate` and
    `render` take them, were refused: "Object of type int64 is not JSON serializable")."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    """Compact JSON; NaN/inf are refused because they do not survive a JSON round trip to other tools."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False, default=_plain)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"not storable as JSON: {exc}") from exc


def params_key(params: Mapping[str, Any]) -> str:
    """A stable identity for a parameter set: sha256 of its canonical (key-sorted) JSON, hex."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()


def flat_params(params: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """Any accepted form (flat, Leva-prefixed, wrapped) → (flat SceneParams, the form it came in)."""
    if not isinstance(params, Mapping):
        raise StoreError(f"params must be a JSON object (dict), got {type(params).__name__}")
    form = detect_form(params)
    try:
        flat = dict(params) if form == "flat" else to_scene_params(params)
        # checked, not changed (kept as given): {"foo": 1} used to be stored, and then broke the pool's
        # export; bools read as the original's checkbox does, as the designer's refs need
        validate(flat, js_bools=True)
    except ParamsError as exc:
        raise StoreError(f"not a scene's params: {exc}") from exc
    return flat, form


@dataclass(frozen=True)
class Seed:
    """A parameter set in the pool; `parent_id`/`rating_id` are its lineage (seed it came from, find)."""

    id: int
    params: dict[str, Any]
    source: str
    form: str
    parent_id: int | None
    rating_id: int | None
    label: str | None
    notes: str | None
    origin: str | None
    original: str | None
    created: str


@dataclass(frozen=True)
class Run:
    """One exploration/refinement/import job; `progress` is whatever the job last reported (JSON)."""

    id: int
    kind: str
    config: dict[str, Any]
    status: str
    seed_id: int | None
    started: str
    finished: str | None
    progress: dict[str, Any]
    error: str | None
    owner: str | None = None
    """host:pid of the process that last drove it (core.store.holders)."""
    heartbeat: str | None = None
    """When that process last recorded a rating or progress."""


@dataclass(frozen=True)
class Rating:
    """A judged render. `score` is None for a failed judgement (the rationale says why); `image` is
    relative to the store's images folder (`Store.image_path` gives the absolute path)."""

    id: int
    run_id: int | None
    step: int | None
    params: dict[str, Any]
    params_hash: str
    image: str | None
    score: float | None
    judge: str
    rationale: str
    raw: str | None
    created: str


def seed_from_row(row: sqlite3.Row) -> Seed:
    return Seed(
        id=row["id"],
        params=json.loads(row["params"]),
        source=row["source"],
        form=row["form"],
        parent_id=row["parent_id"],
        rating_id=row["rating_id"],
        label=row["label"],
        notes=row["notes"],
        origin=row["origin"],
        original=row["original"],
        created=row["created"],
    )


def run_from_row(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"],
        kind=row["kind"],
        config=json.loads(row["config"]),
        status=row["status"],
        seed_id=row["seed_id"],
        started=row["started"],
        finished=row["finished"],
        progress=json.loads(row["progress"]),
        error=row["error"],
        owner=row["owner"],
        heartbeat=row["heartbeat"],
    )


def rating_from_row(row: sqlite3.Row) -> Rating:
    return Rating(
        id=row["id"],
        run_id=row["run_id"],
        step=row["step"],
        params=json.loads(row["params"]),
        params_hash=row["params_hash"],
        image=row["image"],
        score=row["score"],
        judge=row["judge"],
        rationale=row["rationale"],
        raw=row["raw"],
        created=row["created"],
    )


def relative_image(path: Path | None, images_dir: Path) -> str | None:
    return None if path is None else path.relative_to(images_dir).as_posix()
