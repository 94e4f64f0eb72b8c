"""pandas views for browsing the store (the UI's tables, notebooks): one row per record, JSON decoded.

A few parameters are lifted into columns (geometry, repetitions) because they are what a person scans a
list of designs by; the full parameter set stays in the `params` column.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd

BROWSE_PARAMS = ("geometry", "repetitions")
"""Parameters shown as their own columns in the seeds and ratings frames."""


def _decode_params(frame: pd.DataFrame) -> pd.DataFrame:
    frame["params"] = [json.loads(text) for text in frame["params"]]
    for name in BROWSE_PARAMS:
        frame[name] = [p.get(name) for p in frame["params"]]
    return frame


def seeds_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Seeds, indexed by id: source, label, notes, lineage columns, origin, created, params."""
    frame = pd.read_sql_query(
        "SELECT id, source, label, notes, parent_id, rating_id, origin, form, created, params"
        " FROM seeds ORDER BY id",
        conn,
        index_col="id",
    )
    return _decode_params(frame)


def runs_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Runs, indexed by id, newest first, with config and progress decoded."""
    frame = pd.read_sql_query("SELECT * FROM runs ORDER BY id DESC", conn, index_col="id")
    for column in ("config", "progress"):
        frame[column] = [json.loads(text) for text in frame[column]]
    return frame


def ratings_frame(
    conn: sqlite3.Connection, images_dir: Path, run_id: int | None = None, min_score: float | None = None
) -> pd.DataFrame:
    """Ratings indexed by id (best first when `min_score` is given, else oldest first); `image` absolute."""
    where, args, order = [], [], "id"
    if run_id is not None:
        where.append("run_id = ?")
        args.append(run_id)
    if min_score is not None:
        where.append("score >= ?")
        args.append(min_score)
        order = "score DESC, id DESC"
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    frame = pd.read_sql_query(
        "SELECT id, run_id, step, score, judge, rationale, image, created, params"
        f" FROM ratings{clause} ORDER BY {order}",
        conn,
        params=args,
        index_col="id",
    )
    # a rating without an image reads back as NaN, not None, in pandas 3's string columns
    paths = [str(images_dir / rel) if isinstance(rel, str) else None for rel in frame["image"]]
    frame["image"] = pd.Series(paths, index=frame.index, dtype=object)  # None stays None, not NaN
    return _decode_params(frame)
