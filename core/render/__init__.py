"""Rendering: the local renderer twin and a client for the original's /api/raster, behind one interface.

>>> from core.render import render
>>> image = render({"geometry": "ring", "repetitions": 65}, width=256, height=144)  # uint8 (144, 256, 3)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from core.render.base import Params, Renderer, RenderError

__all__ = ["Params", "RenderError", "Renderer", "get_renderer", "render"]


def get_renderer(spec: str = "local", **options: object) -> Renderer:
    """A renderer by name: "local" (the twin; options: quality) or the URL of an original /api/raster."""
    if spec in ("local", "twin"):
        from core.render.twin import LocalRenderer

        return LocalRenderer(**options)  # type: ignore[arg-type]
    if spec.startswith(("http://", "https://")):
        from core.render.remote import RemoteRenderer

        return RemoteRenderer(spec, **options)  # type: ignore[arg-type]
    raise ValueError(f"unknown renderer {spec!r}: use 'local' or the URL of an /api/raster endpoint")


@lru_cache(maxsize=8)
def _local(quality: str) -> Renderer:
    return get_renderer("local", quality=quality)


def render(params: Params, width: int = 1024, height: int = 1024, quality: str = "exact") -> np.ndarray:
    """Render flat, Leva-prefixed or {value, disabled}-wrapped parameters with the local twin.

    Returns uint8 (height, width, 3). The camera always shows 5 world units across, so the aspect ratio only
    changes how much is visible vertically. Invalid parameters raise `core.params.ParamsError`.
    """
    return _local(quality).render(params, width, height)
