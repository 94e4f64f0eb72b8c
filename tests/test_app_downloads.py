"""The app's downloads folder: one per process, the oldest subfolders pruned, nothing left in /tmp."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.ui import match, pool
from app.ui.downloads import Downloads, remove_orphans
from core.params import defaults


def test_folders_are_fresh_and_pruned_beyond_keep() -> None:
    downloads = Downloads(keep=3)
    folders = [downloads.folder() for _ in range(5)]
    assert len(set(folders)) == 5
    assert all(f.parent == downloads.root for f in folders)
    assert [f.is_dir() for f in folders] == [False, False, True, True, True]
    assert sorted(downloads.root.iterdir()) == folders[2:]


def test_root_is_remade_when_deleted_under_it() -> None:
    downloads = Downloads(keep=2)
    first = downloads.folder()
    downloads._root.cleanup()  # what the process exit (or a /tmp cleaner) does
    second = downloads.folder()
    assert second.is_dir() and second.parent != first.parent


def test_keep_must_be_positive() -> None:
    with pytest.raises(ValueError, match="keep"):
        Downloads(keep=0)


def test_streamed_params_files_do_not_pile_up(monkeypatch: pytest.MonkeyPatch) -> None:
    downloads = Downloads(keep=4)
    monkeypatch.setattr(match, "DOWNLOADS", downloads)
    monkeypatch.setattr(pool, "DOWNLOADS", downloads)
    for _ in range(20):  # a refinement's progress updates
        paths = match.params_files(defaults(), "figma-00.png")
    assert [p.rsplit("/", 1)[1] for p in paths] == ["figma-00.params.json", "figma-00.leva.json"]
    assert len(list(downloads.root.iterdir())) == 4
    assert all(p.is_file() for folder in downloads.root.iterdir() for p in folder.iterdir())


def test_the_folders_of_killed_processes_are_removed_by_the_next(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(gone.stdout)
    orphan = tmp_path / f"bb-match-downloads-{dead_pid}-abc"
    (orphan / "000001-x").mkdir(parents=True)
    alive = tmp_path / f"bb-match-downloads-{os.getpid()}-def"
    alive.mkdir()
    unrelated = tmp_path / "bb-match-downloads-notapid"
    unrelated.mkdir()
    assert remove_orphans(tmp_path, "bb-match-downloads-") == [orphan]
    assert not orphan.exists() and alive.is_dir() and unrelated.is_dir()


def test_the_root_names_this_process() -> None:
    root = Downloads(keep=1).root
    assert root.name.startswith(f"bb-match-downloads-{os.getpid()}-")
