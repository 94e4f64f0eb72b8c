"""Errors the API answers with: JSON bodies that name the problem, never a stack trace.

Handlers turn an `ApiError` into its status and JSON body, and anything unexpected into a bare
`{"error": "Internal server error"}` 500 while the traceback goes to the server log only. They are
installed on the whole app, which the Gradio UI mounts into, so the fallback names no endpoint; a failed
render is answered by the route itself with the original's `Render failed` (which `RemoteRenderer` retries).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.params import ParamsError

RENDER_FAILED = "Render failed"
API_PATHS = ("/api/raster", "/render")
"""Paths whose 404 / 405 answer in the API's own `{"error": …}` shape."""
INTERNAL = "Internal server error"
ECHO_LIMIT = 200
"""Characters of an offending value an error echoes back: enough to recognise it; a 1-MB value sent back
whole would double every bad request's traffic."""


def jsonable(value: Any) -> Any:
    """`value` when it survives strict JSON (tuples become lists), else its repr (NaN, inf, odd objects)."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        return repr(value)


def echo(value: Any) -> Any:
    """An offending value as an error shows it: `jsonable`, or its first characters when its JSON is longer
    than ECHO_LIMIT."""
    value = jsonable(value)
    text = json.dumps(value)
    if len(text) <= ECHO_LIMIT:
        return value
    return f"{text[: ECHO_LIMIT - 40]}... ({len(text)} characters in all)"


class ApiError(Exception):
    """A client-facing error: HTTP status, a message, and optional detail fields (key, value, allowed …)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, **detail: Any):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {"error": self.message, **{k: jsonable(v) for k, v in self.detail.items()}}

    @classmethod
    def from_params(cls, err: ParamsError) -> ApiError:
        """422 naming the offending key, its value and what the schema allows."""
        return cls(422, str(err), key=err.key, value=echo(err.value), allowed=err.allowed)


class AsciiJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: an error echoes what the client sent, and a lone
    surrogate (`"\\ud800"` in a JSON body) cannot be encoded as UTF-8, so the 422 naming it became a 500."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return AsciiJSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    """404, 405 … on the API's paths as its own errors (`{"error": …}`, with Starlette's headers such as
    `Allow`); elsewhere (the Gradio app this app is mounted beside) FastAPI's own answer."""
    assert isinstance(exc, StarletteHTTPException)
    if not request.url.path.startswith(API_PATHS):
        return await http_exception_handler(request, exc)
    message = {404: "Not found", 405: f"Method {request.method} not allowed"}.get(exc.status_code, exc.detail)
    if exc.status_code == 404:
        message += f": {request.url.path} (the API answers /api/raster and /render?c=)"
    elif exc.status_code == 405 and exc.headers and "allow" in {k.lower() for k in exc.headers}:
        allow = next(v for k, v in exc.headers.items() if k.lower() == "allow")
        message += f" on {request.url.path}: use {allow}"
    return AsciiJSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    # Starlette re-raises after this answer, so the server logs the traceback once; the client never sees it.
    return JSONResponse({"error": INTERNAL}, status_code=500)


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
