"""The one renderer interface: every renderer (local twin, remote /api/raster) takes parameters and a size
and returns an opaque RGB image, so callers never care which one draws."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np

Params = Mapping[str, Any]


class RenderError(RuntimeError):
    """A render could not be produced (server down, garbage answer, impossible size)."""


class Renderer(ABC):
    """Draws bb-particles scenes.

    `params` may be flat SceneParams, Leva-prefixed or `{value, disabled}`-wrapped (renderer-spec §2.1).
    The camera always shows 5 world units across, so the aspect ratio only changes the visible height.
    """

    name: str = "renderer"

    @abstractmethod
    def render(self, params: Params, width: int = 1024, height: int = 1024) -> np.ndarray:
        """Return a uint8 array of shape (height, width, 3): opaque black background plus light."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (sessions, pools); the default has none."""

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
