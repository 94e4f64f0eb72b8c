"""SQLite connections that two processes (the app and a CLI run) can write through at once.

WAL lets readers and one writer proceed together; `busy_timeout` makes a second writer wait instead of
failing; every write is a short `BEGIN IMMEDIATE` transaction, which takes the write lock up front so two
writers never deadlock upgrading a read lock.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

for _integer in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64):
    # ids taken from a frame (`seeds_frame()["id"][0]`) are numpy ints: unadapted, `get_seed(np.int64(1))`
    # found no seed 1 and a parent id failed its foreign key
    sqlite3.register_adapter(_integer, int)
sqlite3.register_adapter(np.float32, float)
sqlite3.register_adapter(np.bool_, bool)

BUSY_TIMEOUT_S = 30.0
"""How long a writer waits for the other process's transaction before giving up."""


def connect(path: Path, timeout: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """Open (creating) the database in WAL mode with foreign keys on; autocommit outside `transaction`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    _enter_wal(conn, timeout)
    conn.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; WAL never corrupts on a crash
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _enter_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch to WAL, retrying: the switch reads under a shared lock and then needs an exclusive one, and
    SQLite answers "locked" at once, without its busy handler, when two fresh openers would deadlock."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            primary = getattr(error, "sqlite_errorcode", 0) & 0xFF  # extended codes keep it in the low byte
            contended = primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not contended or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction holding the write lock from its first statement; rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
