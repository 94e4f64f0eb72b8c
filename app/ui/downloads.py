"""Files the app offers for download, kept in one temporary folder per app process.

Why: a refinement streams its best params as downloadable files with every progress update. A fresh
`mkdtemp` per update left hundreds of folders in /tmp after a day of use (554 seen on the dev machine).
Here each download gets a numbered subfolder of one process-wide folder; only the newest `keep` are kept
(gradio copies a returned file into its own cache, so an older one is no longer read), and the whole
folder goes when the process exits. A process that is killed cannot clean up (the browser test stops the
app that way), so the folder's name carries its process id and the next app removes the folders of
processes that are gone.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

KEEP = 32
"""Subfolders kept: enough for every tab's latest file while a few sessions stream at once."""


class Downloads:
    """Fresh subfolders of one temporary folder, the oldest pruned beyond `keep`."""

    def __init__(self, keep: int = KEEP, prefix: str = "bb-match-downloads-") -> None:
        if keep < 1:
            raise ValueError(f"keep must be ≥ 1, got {keep}")
        self.keep = keep
        self._prefix = prefix
        self._root: tempfile.TemporaryDirectory[str] | None = None
        self._made: list[Path] = []
        self._count = 0
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        """The process-wide folder (made on first use, removed at exit)."""
        with self._lock:
            return self._root_path()

    def _root_path(self) -> Path:
        if self._root is None or not Path(self._root.name).is_dir():
            remove_orphans(Path(tempfile.gettempdir()), self._prefix)
            self._root = tempfile.TemporaryDirectory(prefix=f"{self._prefix}{os.getpid()}-")
            self._made = []
        return Path(self._root.name)

    def folder(self) -> Path:
        """A new empty subfolder; the oldest beyond `keep` are deleted."""
        with self._lock:
            root = self._root_path()
            self._count += 1
            folder = Path(tempfile.mkdtemp(dir=root, prefix=f"{self._count:06d}-"))
            self._made.append(folder)
            while len(self._made) > self.keep:
                shutil.rmtree(self._made.pop(0), ignore_errors=True)
            return folder


def remove_orphans(folder: Path, prefix: str) -> list[Path]:
    """Delete the `prefix<pid>-*` folders in `folder` whose process is gone; returns what was deleted."""
    removed = []
    pattern = re.compile(re.escape(prefix) + r"(\d+)-")
    for path in folder.glob(f"{prefix}*"):
        match = pattern.match(path.name)
        if match and path.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OSError:
        return False
    return True


DOWNLOADS = Downloads()
"""The app's downloads (one per process)."""
