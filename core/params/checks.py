"""Per-value checks: type, finiteness, options, colour syntax, and the original's UI clamping (spec §2.3).

`check_value` is the single place a value is accepted, normalised and clamped. With `quantise=True`
a scalar number is first rounded the way the URL codec rounds it (spec §2.2), then clamped, which is
the order the original applies them; vectors and intervals travel as JSON and are only clamped.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from .errors import ParamsError
from .js import codec_int, from_codec_int, is_bool, is_real
from .schema import COLOR_RE, Kind, Param


def _clamp(value: int | float, bounds: tuple[float, float]) -> int | float:
    lo, hi = bounds
    return lo if value < lo else hi if value > hi else value


def _finite(key: str, value: Any, allowed: Any) -> int | float:
    if not is_real(value):
        raise ParamsError(key, value, allowed, "not a number:")
    try:
        finite = math.isfinite(float(value))
    except OverflowError:  # a Python int beyond the double range
        finite = False
    if not finite:
        raise ParamsError(key, value, allowed, "not finite:")
    return int(value) if isinstance(value, numbers.Integral) else float(value)


@lru_cache(maxsize=256)
def _bounds_text(bounds: tuple[float, float] | None) -> str:
    return "any finite number" if bounds is None else f"a number in [{bounds[0]:g}, {bounds[1]:g}] (clamped)"


def check_number(key: str, value: Any, bounds: tuple[float, float] | None, quantise: bool) -> int | float:
    """A scalar: finite, inside the codec's 32-bit range, optionally quantised, then clamped."""
    allowed = _bounds_text(bounds)
    number = _finite(key, value, allowed)
    try:
        stored = codec_int(number)
    except ValueError as err:
        raise ParamsError(key, value, allowed + "; |v|·1000 < 2**30", f"{err}:") from None
    if quantise:
        number = float(from_codec_int(stored))
    return number if bounds is None else _clamp(number, bounds)


def check_bool(key: str, value: Any, js_bools: bool) -> bool:
    """True/False, and the numbers 0 and 1 (refs store bools so); any finite number if `js_bools`."""
    if is_bool(value):
        return bool(value)
    allowed = "true, false (or the numbers 0 and 1)"
    if is_real(value) and math.isfinite(float(value)) and (js_bools or float(value) in (0.0, 1.0)):
        return float(value) != 0.0  # JavaScript truthiness, as the original's checkbox reads it
    raise ParamsError(key, value, allowed, "not a boolean:")


def check_enum(key: str, value: Any, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ParamsError(key, value, options, "unknown option:")
    return str(value)


def check_color(key: str, value: Any) -> str:
    """#rgb or #rrggbb hex, lower-cased and expanded to #rrggbb as the original's colour control stores it."""
    if not isinstance(value, str) or not COLOR_RE.match(value):
        raise ParamsError(key, value, "a hex colour #rgb or #rrggbb", "malformed colour:")
    text = value.lower()
    return "#" + "".join(c * 2 for c in text[1:]) if len(text) == 4 else text


def check_vec2(key: str, value: Any, bounds: tuple[float, float]) -> dict[str, int | float]:
    allowed = f"an object {{x, y}} of numbers, each clamped to [{bounds[0]:g}, {bounds[1]:g}]"
    if not isinstance(value, Mapping) or set(value) != {"x", "y"}:
        raise ParamsError(key, value, allowed, "malformed vector:")
    return {axis: _clamp(_finite(f"{key}.{axis}", value[axis], allowed), bounds) for axis in ("x", "y")}


def check_interval(key: str, value: Any, bounds: tuple[float, float]) -> list[int | float]:
    """[lo, hi], each end clamped; the order is kept (spec §11.3: a reversed range renders literally)."""
    allowed = f"[lo, hi], numbers each clamped to [{bounds[0]:g}, {bounds[1]:g}]"
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ParamsError(key, value, allowed, "malformed interval:")
    return [_clamp(_finite(f"{key}[{i}]", v, allowed), bounds) for i, v in enumerate(value)]


def check_value(key: str, param: Param, value: Any, *, quantise: bool = False, js_bools: bool = False) -> Any:
    """The accepted, normalised and clamped form of `value` for `param` (obsolete kinds pass unchanged)."""
    kind = param.kind
    if kind is Kind.NUMBER:
        return check_number(key, value, param.bounds, quantise)
    if kind is Kind.BOOL:
        return check_bool(key, value, js_bools)
    if kind is Kind.ENUM:
        return check_enum(key, value, param.options or ())
    if kind is Kind.COLOR:
        return check_color(key, value)
    if kind is Kind.VEC2:
        return check_vec2(key, value, param.bounds or (-math.inf, math.inf))
    if kind is Kind.INTERVAL:
        return check_interval(key, value, param.bounds or (-math.inf, math.inf))
    return value
