"""The original's c-string codec (`/render?c=`, `X-Encoded-Params`; renderer-spec §8, codec-notes.md).

Byte stream per entry: [key length: 1 byte][UTF-8 key][type byte][payload]. Type 0 number (zigzag
LEB128 varint of round(v·1000)), 1 bool (one byte), 2 string, 3 JSON (varint byte length + UTF-8);
+8 when the entry carries `disabled`, +16 when it is true. The bytes are packed 3 → 4 characters
with the URL-safe base64 alphabet `A–Z a–z 0–9 - _`, no padding.

`encode` follows the original's three input paths (`detect_form`); what the original silently
corrupts (null values, keys over 255 bytes, integer-like keys it would reorder, |v|·1000 ≥ 2**30,
NaN/inf) raises ParamsError instead. `decode` raises CodecError on a malformed string, where the
API answers `{}`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .convert import detect_form, flat_entries
from .errors import CodecError, ParamsError
from .js import codec_int, from_codec_int, is_array_index, is_bool, is_real, stringify

NUMBER, BOOL, STRING, JSON_ = 0, 1, 2, 3
HAS_FLAG, FLAG_TRUE = 8, 16
_NO_FLAG = object()
_ALPHABET_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def encode(params: Mapping[str, Any]) -> str:
    """The c-string the original builds for `params` (flat, prefixed or wrapped)."""
    out = bytearray()
    for key, value, flag in _entries(params):
        out += _entry_bytes(key, value, flag)
    return base64.urlsafe_b64encode(bytes(out)).rstrip(b"=").decode("ascii")


def decode(text: str) -> dict[str, dict[str, Any]]:
    """`{key: {value}}`, or `{key: {disabled, value}}` for flagged entries, as the API's `?parse=` returns."""
    if not isinstance(text, str):
        raise CodecError(f"a c-string is text, not {type(text).__name__}")
    data = _unpack(text)
    out: dict[str, dict[str, Any]] = {}
    pos = 0
    while pos < len(data):
        key_len = data[pos]
        key = _utf8(data[pos + 1 : pos + 1 + key_len], "key", min_len=key_len)
        pos += 1 + key_len
        if pos >= len(data):
            raise CodecError(f"entry {key!r} is cut off before its type byte")
        type_byte = data[pos]
        pos += 1
        kind = type_byte & 7
        if kind > JSON_ or type_byte & ~(7 | HAS_FLAG | FLAG_TRUE):
            raise CodecError(f"entry {key!r} has an unknown type byte {type_byte}")
        value, pos = _read_payload(data, pos, kind, key)
        out[key] = (
            {"disabled": bool(type_byte & FLAG_TRUE), "value": value}
            if type_byte & HAS_FLAG
            else {"value": value}
        )
    return out


def _entries(params: Mapping[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    """(key, value, disabled flag or _NO_FLAG) along the path the original takes for this input."""
    form = detect_form(params)
    if form == "wrapped":
        for key, wrapper in params.items():
            yield key, wrapper["value"], wrapper.get("disabled", _NO_FLAG)
    elif form == "prefixed":
        for key, value in params.items():
            yield key, value, _NO_FLAG
    else:  # flat: fixed key order, overrides flagged, obsolete keys ignored as the original does
        for key, value, role in flat_entries(params):
            if role == "obsolete":
                continue
            flag = {"override": False, "disabled": True}.get(role, _NO_FLAG)
            yield key, value, flag


def _entry_bytes(key: Any, value: Any, flag: Any) -> bytes:
    if not isinstance(key, str):
        raise ParamsError(repr(key), value, "string keys", "non-string key:")
    key_bytes = _encode_text(key, key, "key")
    if len(key_bytes) > 255:
        raise ParamsError(key, value, "keys of at most 255 UTF-8 bytes (one length byte)", "key too long:")
    if is_array_index(key):
        raise ParamsError(
            key,
            value,
            "non-integer keys (JavaScript moves integer-like keys to the front)",
            "integer-like key:",
        )
    if value is None:
        raise ParamsError(key, value, "a number, bool, string or JSON object/array", "null value:")
    flags = 0
    if flag is not _NO_FLAG:
        if flag is None:
            raise ParamsError(f"{key}.disabled", flag, "true or false", "null flag:")
        flags = HAS_FLAG | (FLAG_TRUE if flag else 0)
    if is_bool(value):
        return bytes([len(key_bytes)]) + key_bytes + bytes([BOOL | flags, 1 if value else 0])
    if is_real(value):
        try:
            payload = _varint(_zigzag(codec_int(value)))
        except ValueError as err:
            raise ParamsError(key, value, "a finite number with |v|·1000 < 2**30", f"{err}:") from None
        return bytes([len(key_bytes)]) + key_bytes + bytes([NUMBER | flags]) + payload
    if isinstance(value, str):
        kind, text = STRING, value
    elif isinstance(value, Mapping | list | tuple):
        try:
            kind, text = JSON_, stringify(value)
        except ValueError as err:
            raise ParamsError(key, value, "JSON without NaN/inf and with string keys", f"{err}:") from None
    else:
        raise ParamsError(key, value, "a number, bool, string or JSON object/array", "unsupported type:")
    body = _encode_text(text, key, "value")
    return bytes([len(key_bytes)]) + key_bytes + bytes([kind | flags]) + _varint(len(body)) + body


def _encode_text(text: str, key: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParamsError(key, text, "text without lone surrogates", f"{what} is not valid UTF-8:") from None


def _zigzag(k: int) -> int:
    return k << 1 if k >= 0 else ((-k) << 1) - 1


def _unzigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _read_varint(data: bytes, pos: int, key: str) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 35:
            raise CodecError(f"entry {key!r} has a truncated or oversized varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _read_payload(data: bytes, pos: int, kind: int, key: str) -> tuple[Any, int]:
    if kind == NUMBER:
        n, pos = _read_varint(data, pos, key)
        return from_codec_int(_unzigzag(n)), pos
    if kind == BOOL:
        if pos >= len(data):
            raise CodecError(f"entry {key!r} is cut off before its bool byte")
        return data[pos] != 0, pos + 1
    length, pos = _read_varint(data, pos, key)
    text = _utf8(data[pos : pos + length], f"value of {key!r}", min_len=length)
    if kind == STRING:
        return text, pos + length
    try:
        return json.loads(text, parse_constant=_reject_constant), pos + length
    except ValueError as err:
        raise CodecError(f"entry {key!r} holds invalid JSON: {err}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _utf8(raw: bytes, what: str, min_len: int) -> str:
    if len(raw) < min_len:
        raise CodecError(f"{what} is cut off ({len(raw)} of {min_len} bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CodecError(f"{what} is not UTF-8: {err}") from None


def _unpack(text: str) -> bytes:
    if len(text) % 4 == 1 or not _ALPHABET_RE.match(text):
        raise CodecError("not a c-string: characters outside A–Z a–z 0–9 - _, or a dangling character")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as err:
        raise CodecError(f"not a c-string: {err}") from None
