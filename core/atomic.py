"""Files written whole or not at all: a temp file beside the destination, moved onto it when complete.

Why: a reader (the UI, a watcher, the next run resuming) must never see half a file, and a run killed while
writing must leave the previous version, not a truncated one. os.replace is atomic within one folder.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def _read_umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


_UMASK = _read_umask()  # read once at import: os.umask is process-wide and briefly changes it


@contextmanager
def atomic_file(
    path: str | os.PathLike[str], mode: str = "wb", *, private: bool = False
) -> Iterator[IO[Any]]:
    """`path` opened for writing ("wb" or "w": UTF-8, "\\n" line ends) under a temporary name in its folder
    (created if missing); moved onto `path` with the usual permissions of a new file (private: readable by
    its owner only) when the block ends, deleted when it raises. A symlink is followed (its target is
    replaced, the link kept); a path that is neither a file nor a folder (a device such as /dev/stdout or
    /dev/full, a FIFO) is written into directly, its errors raised: replacing it made a root process turn
    /dev/full into a PNG file."""
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', not {mode!r}")
    path = Path(os.path.realpath(path))  # through a symlink: the link stays, its target is written
    text = {} if mode == "wb" else {"encoding": "utf-8", "newline": "\n"}
    if path.exists() and not path.is_file():  # a device, a FIFO: written into, never replaced by a file
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
        with open(path, mode, **text) as handle:
            yield handle
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _about(path, exc) from None
    try:
        with os.fdopen(fd, mode, **text) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if not private:
            os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise _about(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _about(path: Path, exc: OSError) -> OSError:
    """The same error, naming the destination rather than the temporary file beside it."""
    return type(exc)(exc.errno, exc.strerror, str(path)) if exc.errno else exc


def write_text_atomic(path: str | os.PathLike[str], text: str, *, private: bool = False) -> Path:
    """Write `text` to `path` through `atomic_file`; returns the path."""
    with atomic_file(path, "w", private=private) as handle:
        handle.write(text)
    return Path(path)
