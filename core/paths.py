"""Where the project and the read-only shared data live."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path | None:
    """The read-only ../shared folder (golden renders, references, refs), or None when absent.

    BB_SHARED overrides the location; by default it sits beside the checkout.
    """
    env = os.environ.get("BB_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(PROJECT_ROOT.parent / "shared")
    for path in candidates:
        if path.is_dir():
            return path
    return None
