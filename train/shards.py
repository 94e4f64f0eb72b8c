"""Tar shards of (PNG, flat-params JSON) pairs: `shard-00012.tar` holds `<key>.png` + `<key>.json`.

Tar keeps samples streamable and shards independent (webdataset-compatible naming), so a shard is
either complete (renamed into place) or absent, which is what makes generation resumable.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from core.atomic import atomic_file


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.tar"


def encode_png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def write_shard(path: Path, samples: list[tuple[str, bytes, dict[str, Any]]]) -> None:
    """Write (key, png bytes, record) samples to `path` atomically (temp file + rename)."""
    with atomic_file(path) as handle, tarfile.open(fileobj=handle, mode="w") as tar:
        for key, png, record in samples:
            for suffix, data in ((".png", png), (".json", json.dumps(record).encode())):
                info = tarfile.TarInfo(key + suffix)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def read_shard(path: Path) -> Iterator[tuple[str, bytes, dict[str, Any]]]:
    """(key, png bytes, record) in the order written."""
    pending: dict[str, dict[str, Any]] = {}
    with tarfile.open(path) as tar:
        for member in tar:
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            key, suffix = member.name.rsplit(".", 1)
            pending.setdefault(key, {})[suffix] = data
            if len(pending[key]) == 2:
                item = pending.pop(key)
                yield key, item["png"], json.loads(item["json"])


def list_shards(root: Path) -> list[Path]:
    return sorted(Path(root).glob("shard-*.tar"))
