"""Where the store lives: one data directory (the user's choice) holding the SQLite file and the images.

One rule for every caller (app, CLI, tests) so that two processes pointed at the same place really share
one database: an explicit location > $BB_DATA_DIR > ./data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "BB_DATA_DIR"
"""Environment variable naming the data directory."""

DB_NAME = "bb.sqlite3"
"""File name of the database inside a data directory."""

IMAGES_DIR = "images"
"""Folder, beside the database, that holds the rated images."""

_DB_SUFFIXES = (".sqlite3", ".sqlite", ".db")


@dataclass(frozen=True)
class StoreLocation:
    """The database file and the image folder of one store."""

    db_path: Path
    images_dir: Path

    @property
    def data_dir(self) -> Path:
        return self.db_path.parent


def default_data_dir() -> Path:
    """$BB_DATA_DIR when set, else ./data (relative to the working directory, like other CLI outputs)."""
    env = os.environ.get(ENV_VAR, "").strip()
    return Path(env) if env else Path("data")


def resolve_location(location: str | os.PathLike[str] | None = None) -> StoreLocation:
    """A data directory, or a database file (suffix .sqlite3/.sqlite/.db, as `--db PATH` passes), or None.

    Images always sit in `images/` beside the database file, so a copied data directory stays whole.
    """
    path = Path(location) if location is not None else default_data_dir()
    path = path.expanduser()
    db_path = path if path.suffix in _DB_SUFFIXES else path / DB_NAME
    return StoreLocation(db_path=db_path, images_dir=db_path.parent / IMAGES_DIR)
