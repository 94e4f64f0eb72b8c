"""App settings (renderer, judge, checkpoint, data directory, refine workers, bb-particles' address),
persisted as JSON.

The file lives in the launch data directory (`python -m app --data-dir DIR`, default $BB_DATA_DIR or
./data) as `settings.json`; its `data_dir` names where the store lives (by default that same directory).
Each browser session works on its own copy; "Save" writes the file, which new sessions and the next
launch read.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from core.atomic import write_text_atomic
from core.inverse import DEFAULT_CHECKPOINT
from core.refine.evaluate import default_workers
from core.render.links import site_root
from core.render.remote import DEFAULT_URL

SETTINGS_NAME = "settings.json"
JUDGE_CHOICES = (
    "proxy",
    "transformers:Qwen/Qwen2-VL-2B-Instruct",
    "openai:http://localhost:11434/v1#qwen2.5vl",
)


@dataclass(frozen=True)
class Settings:
    """renderer: "local" (the twin) or the URL of an original /api/raster (used for the Match renders;
    refinement always scores with the local twin). judge: a `core.judge.create_judge` spec. checkpoint:
    the inverse model's file. data_dir: where the store (SQLite + images) lives. refine_workers: processes
    scoring refine candidates. original_url: where the designer's bb-particles runs, for the links that
    open a match in it (core.render.links)."""

    renderer: str = "local"
    judge: str = "proxy"
    checkpoint: str = str(DEFAULT_CHECKPOINT)
    data_dir: str = "data"
    refine_workers: int = 1
    original_url: str = DEFAULT_URL

    def updated(self, **changes: Any) -> Settings:
        """A copy with `changes` applied, values cleaned (stripped text, workers ≥ 1)."""
        merged = replace(self, **changes)
        return replace(
            merged,
            renderer=merged.renderer.strip() or "local",
            judge=merged.judge.strip() or "proxy",
            checkpoint=merged.checkpoint.strip() or str(DEFAULT_CHECKPOINT),
            data_dir=merged.data_dir.strip() or self.data_dir,
            refine_workers=max(1, int(merged.refine_workers)),
            original_url=site_root(merged.original_url),
        )


def settings_path(home: str | os.PathLike[str]) -> Path:
    """The settings file of a launch data directory."""
    return Path(home) / SETTINGS_NAME


def load_settings(home: str | os.PathLike[str]) -> Settings:
    """Settings from `home/settings.json`; defaults (data_dir = home) for a missing or unreadable file or
    unknown keys."""
    base = Settings(data_dir=str(home), refine_workers=default_workers())
    try:
        raw = json.loads(settings_path(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return base
    if not isinstance(raw, dict):
        return base
    known = {f.name for f in fields(Settings)}
    try:
        return base.updated(**{k: v for k, v in raw.items() if k in known})
    except (TypeError, ValueError, AttributeError):
        return base


def save_settings(home: str | os.PathLike[str], settings: Settings) -> Path:
    """Write `settings` to `home/settings.json` atomically; returns the path."""
    path = settings_path(home)
    # private, as before: a judge's URL may carry credentials
    write_text_atomic(path, json.dumps(asdict(settings), indent=2) + "\n", private=True)
    return path
