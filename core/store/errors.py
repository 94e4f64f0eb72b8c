"""The store's one error type, so callers can tell a store problem from a params or image problem."""

from __future__ import annotations

import os
from pathlib import Path


class StoreError(RuntimeError):
    """A store operation that cannot be done: unknown id, bad value, newer schema, unreadable refs line."""


class RunBusyError(StoreError):
    """A run that another live process is driving: resuming it here would drive it twice."""


def database_trouble(exc: Exception, path: Path) -> str:
    """What an sqlite3 error in mid-use means for the user, in words: another program holding the write lock
    past the wait, a file or folder that cannot be written, a damaged file (each was a raw traceback)."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"{path} is locked by another program past the wait ({text}): close it there, then retry"
    if "readonly" in text or "read-only" in text:
        return f"{path} cannot be written ({text}): a read-only file, folder or disk"
    if "malformed" in text or "not a database" in text:
        return (
            f"{path} is damaged ({text}): restore it from a copy (`sqlite3 {path} .recover` may save what is "
            "left)"
        )
    return f"{path} failed: {text}"


def read_only_place(path: Path) -> bool:
    """Whether the folder of `path` cannot be written (a read-only disk or mount, or no permission)."""
    folder = path.parent if path.parent.exists() else path
    return folder.exists() and not os.access(folder, os.W_OK)
