"""A parameter set's identity as text: equal params, equal text, whatever the order of their keys.

Why: the search and the first guess cache renders and losses per scene and score each scene once; they
need a key for a nested dict. core.store.params_key hashes the same text (compactly, refusing NaN) for
stored seeds; this one is for in-memory caches, where a NaN scene is still a scene to skip once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def identity(params: Mapping[str, Any]) -> str:
    """The params as key-sorted JSON text (a cache or de-duplication key)."""
    return json.dumps(params, sort_keys=True)
