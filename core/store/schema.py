"""The schema as numbered migrations; `PRAGMA user_version` records how many have been applied.

A new version appends a tuple of statements to MIGRATIONS (never edits an old one). Migrations run in one
write transaction that re-reads the version after taking the lock, so two processes opening a fresh
database at once apply each migration exactly once.
"""

from __future__ import annotations

import sqlite3

from .db import transaction
from .errors import StoreError

SOURCES = ("cnn", "refine", "explore", "import", "manual")
"""Where a seed came from."""

RUN_STATUSES = ("running", "done", "failed", "cancelled")
"""Life cycle of a run; `running` is also what an interrupted run is left in until it is resumed."""

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: seeds, runs, ratings.
    (
        f"""CREATE TABLE seeds (
            id INTEGER PRIMARY KEY,
            params TEXT NOT NULL,
            params_hash TEXT NOT NULL,
            form TEXT NOT NULL DEFAULT 'flat' CHECK (form IN ('flat', 'prefixed', 'wrapped')),
            original TEXT,
            origin TEXT,
            source TEXT NOT NULL CHECK (source IN ({_in(SOURCES)})),
            parent_id INTEGER REFERENCES seeds(id) ON DELETE SET NULL,
            rating_id INTEGER REFERENCES ratings(id) ON DELETE SET NULL,
            label TEXT,
            notes TEXT,
            created TEXT NOT NULL DEFAULT ({_NOW})
        )""",
        "CREATE INDEX seeds_params_hash ON seeds(params_hash)",
        "CREATE INDEX seeds_parent ON seeds(parent_id)",
        f"""CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            config TEXT NOT NULL DEFAULT '{{}}',
            status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ({_in(RUN_STATUSES)})),
            seed_id INTEGER REFERENCES seeds(id) ON DELETE SET NULL,
            started TEXT NOT NULL DEFAULT ({_NOW}),
            finished TEXT,
            progress TEXT NOT NULL DEFAULT '{{}}',
            error TEXT
        )""",
        f"""CREATE TABLE ratings (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
            step INTEGER,
            params TEXT NOT NULL,
            params_hash TEXT NOT NULL,
            image TEXT,
            score REAL CHECK (score IS NULL OR (score >= 1 AND score <= 10)),
            judge TEXT NOT NULL,
            rationale TEXT NOT NULL DEFAULT '',
            raw TEXT,
            created TEXT NOT NULL DEFAULT ({_NOW})
        )""",
        "CREATE UNIQUE INDEX ratings_run_step ON ratings(run_id, step) WHERE step IS NOT NULL",
        "CREATE INDEX ratings_run_hash ON ratings(run_id, params_hash)",
        "CREATE INDEX ratings_score ON ratings(score)",
    ),
    # 2: who drives a running run, and when it last reported (core.store.holders).
    (
        "ALTER TABLE runs ADD COLUMN owner TEXT",
        "ALTER TABLE runs ADD COLUMN heartbeat TEXT",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)
"""The version this code writes; a database with a higher version came from newer code and is refused."""


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version found before migrating."""
    found = schema_version(conn)
    if found == SCHEMA_VERSION:
        return found
    if found > SCHEMA_VERSION:
        raise StoreError(_newer(found))
    with transaction(conn):
        found = schema_version(conn)  # another process may have migrated while we waited for the lock
        if found > SCHEMA_VERSION:
            raise StoreError(_newer(found))
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return found


def _newer(found: int) -> str:
    return (
        f"the database has schema version {found} but this code knows only up to {SCHEMA_VERSION}; "
        "it was written by a newer version of bb-match (update this checkout, or use another --db)"
    )
