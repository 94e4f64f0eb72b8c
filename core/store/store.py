"""The store: seeds, runs, ratings and the gallery in one SQLite file, images beside it.

Every method is one short transaction (or one read), so the app and a CLI run can share a store; the
connection is guarded by a lock so UI threads can share one Store object too.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from core.atomic import write_text_atomic

from . import frames
from .db import connect, transaction
from .errors import RunBusyError, StoreError, read_only_place
from .holders import heartbeat_age_s, holder_of, this_process
from .images import prune_orphans, put_image
from .location import resolve_location
from .records import (
    Rating,
    Run,
    Seed,
    dumps,
    flat_params,
    params_key,
    rating_from_row,
    relative_image,
    run_from_row,
    seed_from_row,
)
from .refs import RefLine, read_refs, ref_line
from .schema import RUN_STATUSES, SOURCES, migrate, schema_version

GALLERY_MIN_SCORE = 9.0
"""Default gallery threshold: the plan keeps every find judged 9/10 or better."""

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


@dataclass(frozen=True)
class ImportReport:
    """What `import_refs` did: the seed id of every line in file order (reused ids for duplicates)."""

    seed_ids: list[int]
    added: int
    reused: int


def _closed(exc: sqlite3.ProgrammingError) -> Exception:
    """A use after `close()` as a StoreError that says so (it was sqlite3's "Cannot operate on a closed
    database"); any other programming error as it was."""
    return StoreError(f"{exc}: this Store was closed; open a new one") if "closed" in str(exc) else exc


class Store:
    """Seeds, runs, ratings and gallery of one data directory (see `location.resolve_location`)."""

    def __init__(self, location: str | os.PathLike[str] | None = None, *, timeout: float = 30.0) -> None:
        self.location = resolve_location(location)
        self.images_dir = self.location.images_dir
        self._lock = threading.RLock()
        try:
            self._conn = connect(self.location.db_path, timeout=timeout)
            migrate(self._conn)
        except sqlite3.DatabaseError as exc:  # a file that is not SQLite: said, not a traceback
            db = self.location.db_path
            if read_only_place(db):  # a read-only mount was called "not a usable database"
                raise StoreError(f"{db} cannot be opened ({exc}): its folder is read-only") from None
            raise StoreError(
                f"{db} is not a usable database ({exc}): give a data folder, or the database file of one"
            ) from None
        except FileExistsError:  # `--db notes.txt`: a folder was to be made where a file is
            raise StoreError(
                f"{self.location.db_path.parent} is a file, not a data folder: give a data folder, or a "
                "database file (.sqlite3, .sqlite or .db)"
            ) from None
        except OSError as exc:  # a place that cannot be written
            raise StoreError(f"cannot open a store at {location}: {exc.strerror or exc}") from None

    # -- lifetime ------------------------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The database file."""
        return self.location.db_path

    @property
    def schema_version(self) -> int:
        with self._lock:
            return schema_version(self._conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            with self._lock, transaction(self._conn):
                return self._conn.execute(sql, args)
        except sqlite3.IntegrityError as exc:  # a dangling parent/run/seed id, a violated CHECK
            raise StoreError(f"refused by the database: {exc}") from exc
        except sqlite3.ProgrammingError as exc:
            raise _closed(exc) from None

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            with self._lock:
                return self._conn.execute(sql, args).fetchall()
        except sqlite3.ProgrammingError as exc:
            raise _closed(exc) from None

    def _one(self, table: str, row_id: int) -> sqlite3.Row:
        rows = self._read(f"SELECT * FROM {table} WHERE id = ?", (row_id,))
        if not rows:
            raise StoreError(f"no {table[:-1]} with id {row_id}")
        return rows[0]

    # -- seeds ---------------------------------------------------------------------------------------------

    def add_seed(
        self,
        params: Mapping[str, Any],
        *,
        source: str,
        parent_id: int | None = None,
        rating_id: int | None = None,
        label: str | None = None,
        notes: str | None = None,
        origin: str | None = None,
        original: str | None = None,
    ) -> int:
        """Add a parameter set (flat, prefixed or wrapped; kept losslessly) to the pool; returns its id."""
        _check_choice("source", source, SOURCES)
        flat, form = flat_params(params)
        cursor = self._write(
            "INSERT INTO seeds (params, params_hash, form, original, origin, source, parent_id, rating_id,"
            " label, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                dumps(flat),
                params_key(flat),
                form,
                original,
                origin,
                source,
                parent_id,
                rating_id,
                label,
                notes,
            ),
        )
        return int(cursor.lastrowid)

    def get_seed(self, seed_id: int) -> Seed:
        return seed_from_row(self._one("seeds", seed_id))

    def seeds(self, source: str | None = None) -> list[Seed]:
        """All seeds (of one source when given), oldest first."""
        if source is None:
            rows = self._read("SELECT * FROM seeds ORDER BY id")
        else:
            _check_choice("source", source, SOURCES)
            rows = self._read("SELECT * FROM seeds WHERE source = ? ORDER BY id", (source,))
        return [seed_from_row(r) for r in rows]

    def last_seed_id(self) -> int | None:
        """The newest seed's id (None: an empty pool): one indexed read, for a view that redraws the pool
        only when it grew."""
        (row,) = self._read("SELECT MAX(id) FROM seeds")
        return None if row[0] is None else int(row[0])

    def find_seed(self, params: Mapping[str, Any]) -> int | None:
        """The oldest seed holding exactly these params (any form), or None: what keeps a second save of
        one design, or a find the closed loop read as an existing seed, from adding a copy."""
        flat, _ = flat_params(params)
        key = params_key(flat)
        rows = self._read("SELECT id FROM seeds WHERE params_hash = ? ORDER BY id LIMIT 1", (key,))
        return int(rows[0]["id"]) if rows else None

    def update_seed(self, seed_id: int, *, label: str | None = None, notes: str | None = None) -> None:
        """Change a seed's label and/or notes (its params never change: a new variant is a new seed)."""
        self._one("seeds", seed_id)
        self._write(
            "UPDATE seeds SET label = coalesce(?, label), notes = coalesce(?, notes) WHERE id = ?",
            (label, notes, seed_id),
        )

    def delete_seed(self, seed_id: int) -> None:
        """Remove a seed; children keep existing with their parent link cleared."""
        self._one("seeds", seed_id)
        self._write("DELETE FROM seeds WHERE id = ?", (seed_id,))

    def lineage(self, seed_id: int) -> list[Seed]:
        """The seed, its parent, its parent's parent … up to a root (cycles are impossible by insertion)."""
        chain = [self.get_seed(seed_id)]
        while chain[-1].parent_id is not None and len(chain) <= 10_000:
            chain.append(self.get_seed(chain[-1].parent_id))
        return chain

    # -- runs ----------------------------------------------------------------------------------------------

    def start_run(
        self, kind: str, config: Mapping[str, Any] | None = None, *, seed_id: int | None = None
    ) -> int:
        """Record a new run in status `running`, held by this process; returns its id. kind: a word naming
        what runs ("explore")."""
        if not isinstance(kind, str) or not kind.isidentifier():
            raise StoreError(f"a run's kind is a word such as 'explore', got {kind!r}")
        cursor = self._write(
            f"INSERT INTO runs (kind, config, seed_id, owner, heartbeat) VALUES (?, ?, ?, ?, {_NOW})",
            (kind, dumps(dict(config or {})), seed_id, this_process()),
        )
        return int(cursor.lastrowid)

    def get_run(self, run_id: int) -> Run:
        return run_from_row(self._one("runs", run_id))

    def runs(self, kind: str | None = None, status: str | None = None) -> list[Run]:
        """Runs, newest first, optionally of one kind and/or status."""
        where, args = _filters(kind=kind, status=status)
        return [run_from_row(r) for r in self._read(f"SELECT * FROM runs{where} ORDER BY id DESC", args)]

    def update_progress(self, run_id: int, progress: Mapping[str, Any]) -> None:
        """Replace the run's progress record (whatever JSON the job reports: evals done, best score …)."""
        self._one("runs", run_id)
        self._write(
            f"UPDATE runs SET progress = ?, heartbeat = {_NOW} WHERE id = ?", (dumps(dict(progress)), run_id)
        )

    def finish_run(self, run_id: int, status: str = "done", error: str | None = None) -> None:
        """Close a run as done, failed or cancelled."""
        _check_choice("status", status, RUN_STATUSES[1:])
        self._one("runs", run_id)
        self._write(
            f"UPDATE runs SET status = ?, error = ?, finished = {_NOW} WHERE id = ?", (status, error, run_id)
        )

    def run_holder(self, run_id: int) -> str | None:
        """Words naming the live process, other than this one, that drives the run ("process 123 on this
        machine"); None when the run is not `running` or its process has gone (killed, crashed)."""
        return holder_of(self.get_run(run_id))

    def resume_run(self, run_id: int) -> Run:
        """Take an interrupted, failed or cancelled run for this process and mark it `running` again; its
        ratings stay (`rated_steps`). Refused with RunBusyError while another live process drives it: the
        check and the take are one transaction, so two processes resuming a run at once cannot both go on."""
        try:
            with self._lock, transaction(self._conn):
                run = run_from_row(self._one("runs", run_id))
                holder = holder_of(run)
                if holder is not None:
                    raise RunBusyError(
                        f"run {run_id} is being driven by {holder} (it recorded progress in the last "
                        f"{heartbeat_age_s(run.heartbeat):.0f} s): stop it there, or wait until it ends"
                    )
                self._conn.execute(
                    "UPDATE runs SET status = 'running', error = NULL, finished = NULL, owner = ?,"
                    f" heartbeat = {_NOW} WHERE id = ?",
                    (this_process(), run_id),
                )
        except sqlite3.ProgrammingError as exc:
            raise _closed(exc) from None
        return self.get_run(run_id)

    # -- ratings -------------------------------------------------------------------------------------------

    def add_rating(
        self,
        params: Mapping[str, Any],
        score: float | None,
        *,
        judge: str,
        rationale: str = "",
        raw: str | None = None,
        image: Any = None,
        run_id: int | None = None,
        step: int | None = None,
    ) -> int:
        """Record a judged render; returns its id. `score=None` records a failed judgement.

        The image (array, PIL image or path) is written first, atomically, then the row. With `step`,
        the call is idempotent per (run, step): a resumed run re-adding a step gets the existing id.
        """
        if score is not None and not 1.0 <= float(score) <= 10.0:
            raise StoreError(f"score must be in [1, 10] (or None for a failure), got {score!r}")
        flat, _ = flat_params(params)
        path = None if image is None else put_image(image, self.images_dir)
        cursor = self._write(
            "INSERT INTO ratings (run_id, step, params, params_hash, image, score, judge, rationale, raw)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                run_id,
                step,
                dumps(flat),
                params_key(flat),
                relative_image(path, self.images_dir),
                None if score is None else float(score),
                judge,
                rationale,
                raw,
            ),
        )
        if run_id is not None:  # a run's heartbeat: its holder is alive (core.store.holders)
            self._write(f"UPDATE runs SET heartbeat = {_NOW} WHERE id = ?", (run_id,))
        if cursor.rowcount == 1:
            return int(cursor.lastrowid)
        existing = self._read("SELECT id FROM ratings WHERE run_id = ? AND step = ?", (run_id, step))
        return int(existing[0]["id"])

    def get_rating(self, rating_id: int) -> Rating:
        return rating_from_row(self._one("ratings", rating_id))

    def ratings(self, run_id: int | None = None, min_score: float | None = None) -> list[Rating]:
        """Ratings oldest first; of one run and/or scoring at least `min_score` (failures never do)."""
        where, args = _filters(run_id=run_id, min_score=min_score)
        return [rating_from_row(r) for r in self._read(f"SELECT * FROM ratings{where} ORDER BY id", args)]

    def gallery(self, min_score: float = GALLERY_MIN_SCORE) -> list[Rating]:
        """Ratings scoring at least `min_score`, best first (newest first among equals)."""
        rows = self._read("SELECT * FROM ratings WHERE score >= ? ORDER BY score DESC, id DESC", (min_score,))
        return [rating_from_row(r) for r in rows]

    def rated_steps(self, run_id: int) -> set[int]:
        """Steps of a run that already have a rating: a resumed run skips these."""
        rows = self._read("SELECT step FROM ratings WHERE run_id = ? AND step IS NOT NULL", (run_id,))
        return {int(r["step"]) for r in rows}

    def rated_keys(self, run_id: int) -> set[str]:
        """`params_key`s a run already rated, for callers that identify work by parameters, not steps."""
        return {
            r["params_hash"]
            for r in self._read("SELECT params_hash FROM ratings WHERE run_id = ?", (run_id,))
        }

    def image_path(self, rating: Rating) -> Path | None:
        """Absolute path of a rating's image (None when it has none)."""
        return None if rating.image is None else self.images_dir / rating.image

    def promote(
        self,
        rating_id: int,
        *,
        params: Mapping[str, Any] | None = None,
        source: str = "explore",
        label: str | None = None,
        notes: str | None = None,
    ) -> int:
        """Make a rated find a seed, with lineage: `rating_id` is the find, the parent is its run's seed.

        `params` replaces the rating's own (the closed loop stores the inverse model's extraction of the
        find's render, with source "cnn"). A failed judgement (score None) cannot be promoted. The label
        defaults to "find #<rating> of run <run>": the pool's table showed a run's finds as rows with none.
        """
        rating = self.get_rating(rating_id)
        if rating.score is None:
            raise StoreError(f"rating {rating_id} is a failed judgement and cannot become a seed")
        parent = self.get_run(rating.run_id).seed_id if rating.run_id is not None else None
        return self.add_seed(
            rating.params if params is None else params,
            source=source,
            parent_id=parent,
            rating_id=rating_id,
            label=label if label is not None else find_label(rating),
            notes=notes if notes is not None else f"{rating.judge} {rating.score:g}/10: {rating.rationale}",
        )

    def prune_images(self) -> list[Path]:
        """Delete image files no rating refers to (left by a crash between file and row)."""
        referenced = [r["image"] for r in self._read("SELECT image FROM ratings WHERE image IS NOT NULL")]
        return prune_orphans(self.images_dir, referenced)

    # -- refs.jsonl ----------------------------------------------------------------------------------------

    def import_refs(self, path: str | os.PathLike[str], *, dedupe: bool = True) -> ImportReport:
        """Import a refs.jsonl file as `import` seeds, in one transaction (all lines or none).

        With `dedupe`, a line equal (as a JSON object) to an imported seed's original reuses that seed.
        """
        lines = list(read_refs(path))
        ids: list[int] = []
        added = 0
        with self._lock, transaction(self._conn):
            for line in lines:
                existing = self._existing_import(line) if dedupe else None
                if existing is not None:
                    ids.append(existing)
                    continue
                cursor = self._conn.execute(
                    "INSERT INTO seeds (params, params_hash, form, original, origin, source, label)"
                    " VALUES (?, ?, ?, ?, ?, 'import', ?)",
                    (
                        dumps(line.params),
                        params_key(line.params),
                        line.form,
                        line.text,
                        line.origin,
                        Path(path).name,
                    ),
                )
                ids.append(int(cursor.lastrowid))
                added += 1
        return ImportReport(seed_ids=ids, added=added, reused=len(ids) - added)

    def _existing_import(self, line: RefLine) -> int | None:
        """An imported seed whose original line equals `line` as a JSON object (inside a transaction)."""
        rows = self._conn.execute(
            "SELECT id, original FROM seeds WHERE params_hash = ? AND original IS NOT NULL ORDER BY id",
            (params_key(line.params),),
        ).fetchall()
        return next((int(r["id"]) for r in rows if json.loads(r["original"]) == line.obj), None)

    def export_refs(
        self, path: str | os.PathLike[str], seed_ids: Iterable[int] | None = None, *, verbatim: bool = True
    ) -> int:
        """Write seeds (all, or `seed_ids` in that order) as refs.jsonl; returns the number of lines."""
        seeds = self.seeds() if seed_ids is None else [self.get_seed(i) for i in seed_ids]
        text = "".join(ref_line(seed, verbatim) + "\n" for seed in seeds)
        write_text_atomic(path, text)
        return len(seeds)

    # -- DataFrames ----------------------------------------------------------------------------------------

    def seeds_frame(self) -> pd.DataFrame:
        with self._lock:
            return frames.seeds_frame(self._conn)

    def runs_frame(self) -> pd.DataFrame:
        with self._lock:
            return frames.runs_frame(self._conn)

    def ratings_frame(self, run_id: int | None = None) -> pd.DataFrame:
        with self._lock:
            return frames.ratings_frame(self._conn, self.images_dir, run_id=run_id)

    def gallery_frame(self, min_score: float = GALLERY_MIN_SCORE) -> pd.DataFrame:
        with self._lock:
            return frames.ratings_frame(self._conn, self.images_dir, min_score=min_score)


def _check_choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise StoreError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _filters(**conditions: Any) -> tuple[str, tuple[Any, ...]]:
    """A WHERE clause from keyword filters that are not None (`min_score` means score >= value)."""
    clauses, args = [], []
    for name, value in conditions.items():
        if value is None:
            continue
        clauses.append("score >= ?" if name == "min_score" else f"{name} = ?")
        args.append(value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)


def find_label(rating: Rating) -> str:
    """A promoted find's seed label: which find, of which run."""
    of_run = f" of run {rating.run_id}" if rating.run_id is not None else ""
    return f"find #{rating.id}{of_run}"
