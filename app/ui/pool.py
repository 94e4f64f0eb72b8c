"""Seed-pool and gallery glue: tables, thumbnails, filtering, refs.jsonl import/export, promotion."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from app.ui.downloads import DOWNLOADS
from core.params import to_prefixed
from core.render import render
from core.store import GALLERY_MIN_SCORE, Store, StoreError, params_key

THUMB_SIZE = (160, 90)
"""Thumbnail size (width, height) in px: the 16:9 of the designs."""
THUMBS_SHOWN = 48
"""Newest seeds shown as thumbnails (the table lists all)."""
SEED_COLUMNS = ["id", "source", "label", "geometry", "repetitions", "parent_id", "created"]
GALLERY_COLUMNS = ["id", "score", "judge", "rationale", "geometry", "run_id", "created"]
SORTS = {"score ↓": ("score", False), "newest": ("id", False), "oldest": ("id", True)}

_thumbs: OrderedDict[str, np.ndarray] = OrderedDict()
_thumbs_lock = threading.Lock()


def thumbnail(params: dict[str, Any]) -> np.ndarray:
    """A small fast-quality render of params, cached by their identity (at most 512 kept)."""
    key = params_key(params)
    with _thumbs_lock:
        if key in _thumbs:
            _thumbs.move_to_end(key)
            return _thumbs[key]
    try:
        image = render(params, *THUMB_SIZE, quality="fast")
    except Exception:
        image = np.full((THUMB_SIZE[1], THUMB_SIZE[0], 3), 40, np.uint8)
    with _thumbs_lock:
        _thumbs[key] = image
        while len(_thumbs) > 512:
            _thumbs.popitem(last=False)
    return image


def score_text(score: float) -> str:
    """A judge's score as people read one on a 1–10 scale: a VLM's whole number as it is, the offline
    proxy's continuous score to three figures (6.96, not 6.9593)."""
    return f"{score:.3g}"


def seeds_table(store: Store) -> pd.DataFrame:
    """The pool, newest first, as the columns of SEED_COLUMNS."""
    frame = store.seeds_frame().reset_index()
    if frame.empty:
        return pd.DataFrame(columns=SEED_COLUMNS)
    frame = frame.sort_values("id", ascending=False)
    # whole numbers as such (a missing parent made the column float: "1.0"), then blanks for what is
    # missing: object columns first, as pandas 4 refuses "" in a float column
    wholes = {c: "Int64" for c in ("id", "parent_id") if c in SEED_COLUMNS}
    return frame[SEED_COLUMNS].astype(wholes).astype(object).fillna("").astype({"id": int})


def seed_thumbnails(store: Store, limit: int = THUMBS_SHOWN) -> list[tuple[np.ndarray, str]]:
    """(thumbnail, caption) of the newest `limit` seeds, newest first."""
    seeds = store.seeds()[-limit:][::-1]
    return [(thumbnail(s.params), f"#{s.id} {s.source} {s.params.get('geometry', '')}") for s in seeds]


def import_refs(store: Store, path: str) -> str:
    """Import a refs.jsonl into the pool; a one-line summary."""
    report = store.import_refs(path)
    return f"Imported {Path(path).name}: {report.added} new seeds, {report.reused} already in the pool."


def export_pool(store: Store) -> str:
    """All seeds as a refs.jsonl in a fresh folder of the app's downloads; returns its path."""
    path = DOWNLOADS.folder() / "refs.jsonl"
    store.export_refs(path)
    return str(path)


def gallery_table(
    store: Store, min_score: float = GALLERY_MIN_SCORE, judge: str = "", sort: str = "score ↓"
) -> pd.DataFrame:
    """Finds scoring ≥ min_score, optionally of judges whose name contains `judge`, sorted by `sort`
    (a key of SORTS); columns GALLERY_COLUMNS plus `image` (path) and `params`."""
    frame = store.gallery_frame(min_score).reset_index()
    if frame.empty:
        return pd.DataFrame(columns=[*GALLERY_COLUMNS, "image", "params"])
    if judge:
        frame = frame[frame["judge"].str.contains(judge, case=False, regex=False)]
    column, ascending = SORTS.get(sort, SORTS["score ↓"])
    frame = frame.sort_values([column, "id"], ascending=[ascending, False])
    return frame[[*GALLERY_COLUMNS, "image", "params"]]


def gallery_items(frame: pd.DataFrame) -> list[tuple[np.ndarray, str]]:
    """(image or thumbnail, "score · judge") for every row of a gallery table."""
    items = []
    for row in frame.itertuples():
        image = _load(row.image) if row.image else None
        items.append(
            (image if image is not None else thumbnail(row.params), f"{score_text(row.score)} · {row.judge}")
        )
    return items


def _load(path: str) -> np.ndarray | None:
    try:
        with Image.open(path) as img:
            img.thumbnail((THUMB_SIZE[0] * 2, THUMB_SIZE[1] * 2))
            return np.asarray(img.convert("RGB"))
    except OSError:
        return None


def export_finds(frame: pd.DataFrame) -> str:
    """The finds of a gallery table as refs.jsonl lines (Leva-prefixed, wrapped); returns the path."""
    path = DOWNLOADS.folder() / "refs.jsonl"
    lines = [json.dumps(to_prefixed(p, wrapped=True), separators=(", ", ": ")) for p in frame["params"]]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def promote(store: Store, rating_id: int, min_score: float = GALLERY_MIN_SCORE) -> tuple[int, bool]:
    """Make a find a seed with its own params (source explore, parent its run's seed): (its seed id,
    whether it is new). Params the pool holds already give back that seed: a second click used to add a
    copy, and the closed loop's seed of a find is the inverse model's reading of it, not the find itself
    (20 keys differed), so "already seed #N" pointed at another design. StoreError for an id that is no
    find of the gallery as filtered (scoring below `min_score`, a failed judgement, no such rating)."""
    try:
        rating = store.get_rating(rating_id)
    except StoreError:
        raise StoreError(f"No find #{rating_id}: click a thumbnail or a row of the finds.") from None
    if rating.score is None or rating.score < min_score:
        scored = "has no score (its judgement failed)" if rating.score is None else f"scores {rating.score:g}"
        raise StoreError(
            f"Rating #{rating_id} {scored}, below the gallery's 'Score at least' {min_score:g}: "
            "it is not one of the finds shown."
        )
    existing = store.find_seed(rating.params)
    if existing is not None:
        return existing, False
    return store.promote(rating_id), True
