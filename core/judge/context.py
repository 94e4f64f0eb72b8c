"""What a judge compares against: the reference designs (the goal aesthetic) and an optional brief.

Defaults to the real designs in ../shared/references when present, else the project's references/ folder,
so every judge works with no arguments. Images are loaded once per file version (path + mtime).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from core.imageio import load_image, to_rgb_float
from core.paths import PROJECT_ROOT, shared_dir

REFERENCE_PATTERN = "*.png"


@dataclass(frozen=True)
class JudgeContext:
    """Reference designs (paths or arrays; empty means the defaults) and a brief added to VLM prompts."""

    references: tuple[Any, ...] = ()
    brief: str = ""


@dataclass(frozen=True)
class Reference:
    """A loaded reference: a display name, its (H, W, 3) float32 pixels in [0, 1], and a cache key."""

    name: str
    pixels: np.ndarray
    key: str


def default_reference_paths() -> list[Path]:
    """../shared/references/*.png when present, else references/*.png of the project (sorted)."""
    folders = []
    shared = shared_dir()
    if shared is not None:
        folders.append(shared / "references")
    folders.append(PROJECT_ROOT / "references")
    for folder in folders:
        found = sorted(folder.glob(REFERENCE_PATTERN))
        if found:
            return found
    return []


def resolve_references(context: JudgeContext | None) -> list[Reference]:
    """The context's references loaded as float RGB; raises ValueError when there are none at all."""
    items = list(context.references) if context and context.references else default_reference_paths()
    if not items:
        raise ValueError(
            "no reference designs: pass JudgeContext(references=[...]) or put PNGs in ../shared/references "
            "or the project's references/ folder"
        )
    return [_reference(item, i) for i, item in enumerate(items)]


def _reference(item: Any, index: int) -> Reference:
    if isinstance(item, str | os.PathLike):
        path = Path(item).resolve()
        stamp = path.stat().st_mtime_ns if path.exists() else 0
        return _load_path(str(path), stamp)
    pixels = to_rgb_float(item)
    digest = hashlib.sha1(pixels.tobytes()).hexdigest()[:16]
    return Reference(name=f"reference-{index + 1}", pixels=pixels, key=f"array:{pixels.shape}:{digest}")


@lru_cache(maxsize=64)
def _load_path(path: str, stamp: int) -> Reference:
    return Reference(name=Path(path).name, pixels=load_image(path), key=f"file:{path}:{stamp}")
