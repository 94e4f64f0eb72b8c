"""Errors raised by the params package: one for bad parameters, one for bad c-strings."""

from __future__ import annotations

import json
from typing import Any


def json_spelling(value: Any) -> str:
    """`value` as the user wrote it: params arrive as JSON, so `true` and `{"value": 5}`, not Python's
    `True` and `{'value': 5}`. NaN and Infinity as JavaScript spells them; what JSON cannot hold (bytes, a
    object) falls back to repr."""
    try:
        return json.dumps(value, ensure_ascii=False, default=_numpy_scalar)
    except (TypeError, ValueError):
        return repr(value)


def _numpy_scalar(value: Any) -> Any:
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    raise TypeError(type(value).__name__)


def _describe(allowed: Any) -> str:
    if isinstance(allowed, tuple) and len(allowed) == 2 and all(isinstance(b, int | float) for b in allowed):
        return f"[{allowed[0]:g}, {allowed[1]:g}]"
    if isinstance(allowed, list | tuple | set | frozenset):
        return ", ".join(json_spelling(a) for a in allowed)
    return str(allowed)


class ParamsError(ValueError):
    """A parameter the schema cannot accept, naming the key, the offending value and what is allowed.

    Raised instead of silently clamping, dropping or corrupting, so that bugs in a pipeline surface
    where they happen rather than as a wrong picture later.
    """

    def __init__(self, key: str, value: Any, allowed: Any, reason: str = "invalid value") -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        self.reason = reason
        shown = json_spelling(value)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        super().__init__(f"{key}: {reason} {shown}; allowed: {_describe(allowed)}")


class CodecError(ValueError):
    """A c-string that does not decode (bad alphabet, truncated entry, unknown type byte, bad UTF-8/JSON)."""
