"""JavaScript number semantics the original's codec depends on: Math.round, Number#toString, JSON.stringify.

Python's `round()` rounds halves to even and `json.dumps` writes `1.0`, `-0.0` and `", "`; the
original's c-strings (and so its pixels) follow JavaScript instead, so these are reproduced exactly.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np

# |round(v·1000)| must stay below 2**30: the original's zigzag works on 32-bit integers (codec-notes).
CODEC_LIMIT = 2**30
_ARRAY_INDEX_RE = re.compile(r"^(?:0|[1-9][0-9]*)$")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def is_bool(value: Any) -> bool:
    """A Python or NumPy bool."""
    return isinstance(value, bool | np.bool_)


def is_real(value: Any) -> bool:
    """A real number that is not a bool (Python's bool is an int; JSON keeps them apart)."""
    return isinstance(value, numbers.Real) and not is_bool(value)


def is_whole(value: Any) -> bool:
    """A Python or NumPy integer that is not a bool: a count, a seed, a width (2.5 and True are not)."""
    return isinstance(value, numbers.Integral) and not is_bool(value)


def js_round(x: float) -> int:
    """Math.round: the nearest integer, halves toward +inf (exact even where x + 0.5 would round)."""
    if not math.isfinite(x):
        raise ValueError(f"cannot round {x!r}")
    whole = math.floor(x)
    return whole + 1 if x - whole >= 0.5 else whole


def codec_int(value: float) -> int:
    """The integer the codec stores for a number, round(v·1000); ValueError where the original corrupts it."""
    try:
        scaled = float(value) * 1000
    except OverflowError:
        scaled = math.inf
    if not math.isfinite(scaled):
        raise ValueError("NaN and infinities encode as 0 in the original")
    k = js_round(scaled)
    if abs(scaled) >= CODEC_LIMIT or abs(k) >= CODEC_LIMIT:
        raise ValueError(f"|v|·1000 must stay below 2**30 = {CODEC_LIMIT} (32-bit zigzag in the original)")
    return k


def from_codec_int(k: int) -> int | float:
    """The number a stored integer decodes to, k/1000, as an int when whole (as JSON would print it)."""
    return k // 1000 if k % 1000 == 0 else k / 1000


def quantise(value: float) -> float:
    """What a scalar becomes after the URL codec: round(v·1000)/1000 with JavaScript rounding."""
    return float(from_codec_int(codec_int(value)))


def number_to_string(x: float) -> str:
    """Number.prototype.toString for a finite double (shortest round-trip digits, JS exponent rules)."""
    try:
        x = float(x)
    except OverflowError:
        x = math.inf  # JavaScript reads such a literal as Infinity
    if not math.isfinite(x):
        raise ValueError(f"{x!r} has no JSON form (JSON.stringify writes null)")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    _, digit_tuple, exp = Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exp += len(digit_tuple) - len(digits)  # dropped trailing zeros move into the exponent
    k = len(digits)
    n = exp + k  # the value is 0.digits × 10**n
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        body = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + body


def _string(s: str) -> str:
    text = json.dumps(s, ensure_ascii=False)
    # JSON.stringify escapes lone surrogates (a Python str only holds lone ones).
    return _SURROGATE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def is_array_index(key: str) -> bool:
    """An integer-like key, which JavaScript objects move to the front in ascending order."""
    return bool(_ARRAY_INDEX_RE.match(key)) and int(key) < 2**32 - 1


def stringify(value: Any) -> str:
    """JSON.stringify(value): compact, JS number formatting, JS key order; ValueError for NaN/inf."""
    if value is None:
        return "null"
    if is_bool(value):
        return "true" if value else "false"
    if is_real(value):
        return number_to_string(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise ValueError("object keys must be strings")
        index_keys = sorted((k for k in value if is_array_index(k)), key=int)
        keys = index_keys + [k for k in value if not is_array_index(k)]
        return "{" + ",".join(f"{_string(k)}:{stringify(value[k])}" for k in keys) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(stringify(v) for v in value) + "]"
    raise ValueError(f"{type(value).__name__} has no JSON form")
