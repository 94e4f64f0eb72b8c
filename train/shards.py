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


class ShardError(ValueError):
    """A shard that cannot be read whole: damaged after it was written (the tool writes whole shards)."""


def damaged(path: Path, what: str) -> ShardError:
    return ShardError(
        f"{path} is damaged ({what}): delete it and rerun train.generate_data with the same options to write "
        "it again"
    )


def read_shard(path: Path) -> Iterator[tuple[str, bytes, dict[str, Any]]]:
    """(key, png bytes, record) in the order written; ShardError for a shard that is not whole (it was a
    tarfile traceback, or for a truncated one, silently fewer samples)."""
    pending: dict[str, dict[str, Any]] = {}
    try:
        with tarfile.open(path) as tar:
            for member in tar:
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                key, suffix = member.name.rsplit(".", 1)
                pending.setdefault(key, {})[suffix] = data
                if len(pending[key]) == 2:
                    item = pending.pop(key)
                    yield key, item["png"], json.loads(item["json"])
    except (tarfile.TarError, EOFError, OSError, ValueError, KeyError, AttributeError) as exc:
        raise damaged(path, str(exc) or type(exc).__name__) from None
    if pending:
        raise damaged(path, f"sample {next(iter(pending))} is cut short")


def count_samples(path: Path) -> int | None:
    """Samples in a shard, from its headers only; None when it is not whole."""
    try:
        with tarfile.open(path) as tar:
            names = [m.name for m in tar.getmembers()]
    except (tarfile.TarError, EOFError, OSError):
        return None
    keys = {name.rsplit(".", 1)[0] for name in names}
    return len(keys) if len(names) == 2 * len(keys) else None


def list_shards(root: Path) -> list[Path]:
    return sorted(Path(root).glob("shard-*.tar"))
