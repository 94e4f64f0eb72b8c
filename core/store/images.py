"""Rated images on disk: content-addressed PNGs, each written atomically before any row refers to it.

Order of writes (the crash rule): the PNG is complete and in place (temp file + fsync + rename, by
`core.imageio.save_png`) before the database row naming it is inserted. A crash in between leaves at
worst an orphan file (`prune_orphans` removes those), never a row pointing at a missing or partial file.
Content addressing makes re-rating the same pixels free and makes concurrent writers of the same image
harmless (both rename identical bytes onto one name).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from core.imageio import save_png, to_uint8

ORPHAN_GRACE_S = 3600.0
"""Files younger than this are never pruned: another process may be about to insert their row."""


def image_name(pixels: Any) -> str:
    """Relative path of an image by content: `ab/abcdef….png` from sha256 of shape and uint8 pixels."""
    digest = hashlib.sha256(f"{pixels.shape}".encode())
    digest.update(pixels.tobytes())
    hexed = digest.hexdigest()[:40]
    return f"{hexed[:2]}/{hexed}.png"


def put_image(image: Any, images_dir: Path) -> Path:
    """Store `image` (anything `core.imageio.to_uint8` accepts) and return its absolute path."""
    pixels = to_uint8(image)
    path = images_dir / image_name(pixels)
    if not path.exists():
        save_png(pixels, path)
    return path


def prune_orphans(images_dir: Path, referenced: Iterable[str], grace_s: float = ORPHAN_GRACE_S) -> list[Path]:
    """Delete PNGs (and stale temp files) under `images_dir` that no row references; returns them."""
    keep = set(referenced)
    cutoff = time.time() - grace_s
    removed = []
    for path in images_dir.glob("*/*"):
        relative = path.relative_to(images_dir).as_posix()
        if relative in keep or not path.is_file() or path.stat().st_mtime > cutoff:
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed
