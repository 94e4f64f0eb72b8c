"""The `?health` answer: enough for a client or a supervisor to tell that renders flow and how busy it is.

The original's field names vary by version (`renders`/`totalRenders`, `fails`/`consecutiveFails`); this
answers `renders` and `fails`, plus `recycling: false` so clients that look for it keep working.
"""

from __future__ import annotations

import time
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from app.api.inputs import MAX_BODY, MAX_LAYERS, MAX_SIDE
from app.api.pool import RenderPool

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


@cache
def version() -> str:
    """The project's version: installed metadata when installed, else pyproject.toml of this checkout."""
    try:
        return metadata.version("bb-match")
    except metadata.PackageNotFoundError:
        pass
    try:
        return str(tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def health_body(pool: RenderPool, started: float) -> dict[str, Any]:
    return {
        "ok": True,
        "service": "bb-match /api/raster",
        "version": version(),
        "renderer": "local",
        "uptime_s": round(time.monotonic() - started, 3),
        "renders": pool.done,
        "fails": pool.failed,
        "recycling": False,
        "pool": pool.stats(),
        "limits": {"max_side": MAX_SIDE, "max_body_bytes": MAX_BODY, "max_layers": MAX_LAYERS},
    }
