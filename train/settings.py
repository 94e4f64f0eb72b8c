"""How the training tools name the settings a refused rerun differs in: one wording for a folder of
shards, a chunk record, a feature cache and a validation's JSON (four copies of it had drifted apart)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def differences(theirs: Mapping[str, Any], ours: Mapping[str, Any], say: Callable[[Any], str] = repr) -> str:
    """The settings of `ours` that `theirs` holds otherwise, as "key X there, Y here", comma-separated
    ("" when none); `say` words a value."""
    return ", ".join(
        f"{key} {say(theirs.get(key))} there, {say(value)} here"
        for key, value in ours.items()
        if theirs.get(key) != value
    )
