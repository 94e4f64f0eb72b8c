"""core.atomic: a file is replaced whole or not at all."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from core.atomic import atomic_file, write_text_atomic


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    path = write_text_atomic(tmp_path / "out.json", "old\n")
    with pytest.raises(RuntimeError), atomic_file(path, "w") as handle:
        handle.write("half of the new")
        raise RuntimeError("killed mid-write")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_the_new_file_appears_whole_with_ordinary_permissions(tmp_path: Path) -> None:
    path = tmp_path / "deeper" / "out.bin"  # a missing folder is made
    with atomic_file(path) as handle:
        handle.write(b"abc")
        assert not path.exists()  # nothing at the destination until the block ends
    assert path.read_bytes() == b"abc"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600


def test_text_is_utf8_with_unix_line_ends(tmp_path: Path) -> None:
    path = write_text_atomic(tmp_path / "t.txt", "ä\nb\n")
    assert path.read_bytes() == "ä\nb\n".encode()
    with pytest.raises(ValueError, match="mode"), atomic_file(path, "a"):
        pass


def test_an_error_names_the_destination_not_the_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(IsADirectoryError) as caught, atomic_file(tmp_path / "taken") as handle:
        handle.write(b"x")
    assert caught.value.filename == str(tmp_path / "taken") and ".tmp" not in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # the temporary file is gone
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(OSError) as caught:
        write_text_atomic(afile / "out.json", "{}")  # its folder would be a file
    assert ".tmp" not in str(caught.value) and "afile" in str(caught.value)


def test_a_private_file_is_its_owners_alone(tmp_path: Path) -> None:
    path = write_text_atomic(tmp_path / "settings.json", "{}", private=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "real" / "target.txt")
    write_text_atomic(link, "through the link\n")
    assert link.is_symlink() and (tmp_path / "real" / "target.txt").read_text() == "through the link\n"


def test_a_device_or_fifo_is_written_into_not_replaced(tmp_path: Path) -> None:
    """A root process turned /dev/full into a PNG file: os.replace put a regular file in the node's place."""
    write_text_atomic("/dev/null", "gone\n")
    assert Path("/dev/null").is_char_device()
    if Path("/dev/full").is_char_device():
        with pytest.raises(OSError, match="No space left"):
            write_text_atomic("/dev/full", "x" * 10)
        assert Path("/dev/full").is_char_device()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    write_text_atomic(fifo, "down the pipe\n")
    reader.join(timeout=10)
    assert got == ["down the pipe\n"] and stat.S_ISFIFO(fifo.stat().st_mode)
    with pytest.raises(IsADirectoryError):
        write_text_atomic(tmp_path, "a folder")
