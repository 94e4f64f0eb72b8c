"""core.paths: where a command will write, checked before it runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.paths import writable_file, writable_folder


def test_a_missing_folder_is_made_and_returned(tmp_path: Path) -> None:
    assert writable_folder(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir()
    assert writable_file(tmp_path / "c" / "out.json") == tmp_path / "c" / "out.json"
    assert (tmp_path / "c").is_dir() and not (tmp_path / "c" / "out.json").exists()


def test_what_cannot_be_written_is_named(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        writable_folder(afile)
    with pytest.raises(ValueError, match="is a file, not a folder"):
        writable_file(afile / "out.json")  # its folder would be a file
    with pytest.raises(ValueError, match="is a folder, not a file"):
        writable_file(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    with pytest.raises(ValueError, match="permission denied"):
        writable_folder(locked)
    with pytest.raises(ValueError, match="cannot make the folder"):
        writable_folder(locked / "inside")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc (no folder made)")
def test_a_folder_that_cannot_be_made_is_named() -> None:
    with pytest.raises(ValueError, match=r"cannot make the folder /proc/bb-match-out: No such file"):
        writable_folder("/proc/bb-match-out")


def test_a_read_only_mount_is_named_as_such_not_as_a_permission(tmp_path: Path, monkeypatch) -> None:
    real_statvfs, real_access = os.statvfs, os.access

    class ReadOnly:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", lambda p: ReadOnly() if Path(p) == tmp_path else real_statvfs(p))
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path else real_access(p, mode))
    with pytest.raises(ValueError, match=r"cannot write into .* \(a read-only file system\)"):
        writable_folder(tmp_path)
