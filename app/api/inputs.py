"""Reading a request: the output size and format from the query, the parameters from a body or ?params=.

Everything here raises `ApiError` with a message a client can act on; nothing renders.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from app.api.errors import ApiError
from core.params import ParamsError, encode, validate

SQUARE = 1024  # the original's only lossless size (renderer-spec §1, §8)
MAX_SIDE = 4096
MAX_BODY = 1_000_000
DRAIN_LIMIT = 16 * MAX_BODY  # read an oversized body this far, so the client sees the 413, not a reset
SERVER_OPTIONS = {"h11_max_incomplete_event_size": 2 * MAX_BODY}
"""uvicorn settings both servers (app.api, the app) run with: h11 reads a request line and headers of up to
this many bytes. A GET ?params= may then carry what a POST body may (MAX_BODY, URL-encoding inflates it);
with h11's default (16 KB) a long GET was answered by a reset connection, not an error."""
MAX_LAYERS = 32
"""Layers one request may draw. Each layer redraws every instance, so without a cap a 1-MB body could ask
for 40k layers (hours of a worker that no client waits for; 100 layers at 4096² took 44 s). The
designer's curated scenes have at most 5; the original sets no cap, so this is the server's own limit."""
_INT_RE = re.compile(r"^[+-]?[0-9]+$")  # ASCII digits only: str.isdigit and \d take ٣٢ for 32
SIZE_ALLOWED = f"0 to {MAX_SIDE}: 0 or ≥ {SQUARE} gives a {SQUARE}² PNG, 1 to {SQUARE - 1} an S×S JPEG"
SIDE_ALLOWED = f"1 to {MAX_SIDE} px"


@dataclass(frozen=True)
class Output:
    """What to render and send: width × height pixels as "png" or "jpeg"."""

    width: int
    height: int
    fmt: str


def _int_query(query: Mapping[str, str], name: str, allowed: str) -> int | None:
    given = query.getlist(name) if hasattr(query, "getlist") else [query.get(name)]
    if len(given) > 1:  # ?size=100&size=200 took the last one without a word
        raise ApiError(422, f"?{name}= is given {len(given)} times: give it once", key=name, value=given[:4])
    raw = query.get(name)
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not _INT_RE.match(text):
        message = f"?{name}= must be a whole number of pixels, got {raw!r}"
        raise ApiError(422, message, key=name, value=raw, allowed=allowed)
    if len(text.lstrip("+-")) > 9:  # out of any range, and past what int() parses quickly
        raise ApiError(
            422, f"?{name}={text[:20]}… is out of range", key=name, value=text[:20], allowed=allowed
        )
    return int(text)


def output_for(query: Mapping[str, str]) -> Output:
    """The original's `?size=` rule, or the `?width=&height=` extension (always PNG)."""
    size = _int_query(query, "size", SIZE_ALLOWED)
    width = _int_query(query, "width", SIDE_ALLOWED)
    height = _int_query(query, "height", SIDE_ALLOWED)
    if width is not None or height is not None:
        if size is not None:
            raise ApiError(422, "Give either ?size= or ?width=&height=, not both", key="size", value=size)
        for name, value in (("width", width), ("height", height)):
            if value is None:
                raise ApiError(422, f"?width= and ?height= go together: ?{name}= is missing", key=name)
            if not 1 <= value <= MAX_SIDE:
                raise ApiError(
                    422, f"?{name}={value} is out of range", key=name, value=value, allowed=SIDE_ALLOWED
                )
        assert width is not None and height is not None
        return Output(width, height, "png")
    if size is not None and not 0 <= size <= MAX_SIDE:
        raise ApiError(422, f"?size={size} is out of range", key="size", value=size, allowed=SIZE_ALLOWED)
    if size and size < SQUARE:
        return Output(size, size, "jpeg")
    return Output(SQUARE, SQUARE, "png")


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request body, or 413 once it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    too_large = ApiError(413, f"Request body too large: the limit is {limit} bytes", allowed=limit)
    if declared.isdigit() and int(declared) > DRAIN_LIMIT:
        raise too_large  # not worth reading: the server closes the connection instead
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > DRAIN_LIMIT:
            break
        if total <= limit:
            chunks.append(chunk)
    if total > limit:
        raise too_large
    return b"".join(chunks)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_params(raw: bytes | str, source: str, content_type: str = "") -> dict[str, Any]:
    """A JSON object of parameters from `raw`; 400 when it is not JSON, 422 when it is not an object.
    content_type: the request's, named in the error when it was not JSON (a form post's "Expecting
    value" does not say why)."""
    if not raw.strip():
        raise ApiError(
            400, f"Nothing in {source}: send a JSON object of parameters ({{}} renders the defaults)"
        )
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        sent_as = content_type.split(";")[0].strip().lower()
        hint = (
            f" (it was sent as {sent_as}: send the JSON object itself, as application/json)"
            if sent_as and "json" not in sent_as and sent_as != "text/plain"
            else ""
        )
        raise ApiError(
            400,
            f"Malformed JSON in {source}: {err.msg} at line {err.lineno} column {err.colno}{hint}",
            position=err.pos,
        ) from None
    except UnicodeDecodeError:
        raise ApiError(400, f"Malformed JSON in {source}: not UTF-8 text") from None
    except RecursionError:
        raise ApiError(400, f"Malformed JSON in {source}: nested too deeply") from None
    except ValueError as err:
        raise ApiError(400, f"Malformed JSON in {source}: {err}") from None
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean"}.get(type(data), "a number")
        if data is None:
            kind = "null"
        raise ApiError(
            422,
            f"The parameters in {source} must be a JSON object (flat, Leva-prefixed or "
            f"{{value, disabled}}-wrapped), got {kind}",
        )
    return data


def checked_cstring(params: dict[str, Any]) -> str:
    """Validate `params` (422 naming key, value and what is allowed) and return their c-string."""
    try:
        layers = len(validate(params).get("layers") or ())
        if layers > MAX_LAYERS:
            raise ApiError(
                422,
                f"{layers} layers: this server draws at most {MAX_LAYERS} per request",
                key="layers",
                value=layers,
                allowed=f"at most {MAX_LAYERS} layers",
            )
        return encode(params)
    except ParamsError as err:
        raise ApiError.from_params(err) from None
    except (TypeError, ValueError) as err:  # a shape the schema's checks did not anticipate
        raise ApiError(422, f"Invalid parameters: {err}") from None
