"""What a pool worker runs: render and encode in one call, so only parameters go in and bytes come out.

Module-level functions, so a process pool can pickle them by name; nothing here touches the event loop.
"""

from __future__ import annotations

import time
from typing import Any

from app.api.imaging import encode
from core.render import render


def render_image(params: dict[str, Any], width: int, height: int, fmt: str) -> tuple[bytes, float]:
    """(encoded image, render+encode seconds) for `params` at width×height in "png" or "jpeg"."""
    start = time.perf_counter()
    data = encode(render(params, width, height), fmt)
    return data, time.perf_counter() - start


def warm_up() -> None:
    """Load the renderer's compiled kernels (numba's on-disk cache) before the first real request."""
    render({}, 32, 32)
