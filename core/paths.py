"""Where the project and the read-only shared data live."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path | None:
    """The read-only ../shared folder (golden renders, references, refs), or None when absent.

    BB_SHARED overrides the location; by default it sits beside the checkout.
    """
    env = os.environ.get("BB_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(PROJECT_ROOT.parent / "shared")
    for path in candidates:
        if path.is_dir():
            return path
    return None


def writable_folder(path: str | os.PathLike[str]) -> Path:
    """`path` as a folder this process can write into, made when missing; ValueError saying why not.

    Why: a command checks where it will write before a long run, so a typo or a read-only place is a
    message up front, not a traceback after the run that loses its result."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot make the folder {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write into {folder} ({why_not_writable(folder)})")
    return folder


def writable_file(path: str | os.PathLike[str]) -> Path:
    """`path` as a file this process can (re)write: its folder checked by `writable_folder`, and the path
    itself not a folder; ValueError saying why not."""
    file = Path(path)
    if file.is_dir():
        raise ValueError(f"{file} is a folder, not a file")
    writable_folder(file.parent)
    if file.exists() and not os.access(file, os.W_OK):
        raise ValueError(f"cannot write {file} ({why_not_writable(file)})")
    return file


def why_not_writable(path: Path) -> str:
    """Why `path`, which refuses writes, does: a read-only mount needs another place, not a chmod."""
    try:
        read_only = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    return "a read-only file system" if read_only else "permission denied"
