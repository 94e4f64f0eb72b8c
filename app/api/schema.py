"""What the `/api/raster` and `/render` routes take and give, for their OpenAPI schema (and so `/docs`).

The handlers read `request.query_params` themselves (the original's rules: `?health` with no value, one
route for every method), so FastAPI cannot see their parameters; these declarations name them."""

from __future__ import annotations

import warnings
from typing import Any

from fastapi import FastAPI

from app.api.inputs import MAX_BODY, SIDE_ALLOWED, SIZE_ALLOWED


def _query(name: str, description: str, kind: str = "string", example: str | None = None) -> dict[str, Any]:
    """A query parameter; `example`: what the reference page's GET and HEAD curl lines send."""
    param = {"name": name, "in": "query", "required": False, "description": description}
    param["schema"] = {"type": kind}
    return param if example is None else {**param, "example": example}


OUTPUT_PARAMETERS = [
    _query("size", f"Output size, the original's rule: {SIZE_ALLOWED}.", "integer"),
    _query(
        "width", f"Output width ({SIDE_ALLOWED}, with ?height=; always PNG). A twin extension.", "integer"
    ),
    _query("height", f"Output height ({SIDE_ALLOWED}, with ?width=).", "integer"),
]
IMAGES = {
    "image/png": {"schema": {"type": "string", "format": "binary"}},
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
}
ERRORS = {
    "400": {"description": "Nothing to do (no ?params= or ?parse=), or a malformed c-string or JSON"},
    "413": {"description": f"Request body over {MAX_BODY} bytes"},
    "422": {"description": "Parameters the renderer cannot take: JSON naming the key, value and allowed"},
    "503": {"description": "Every render worker busy: retry after Retry-After seconds"},
}

RASTER = {
    "parameters": [
        _query(
            "params",
            "Scene parameters as URL-encoded JSON (flat, Leva-prefixed or wrapped): rendered.",
            example='{"geometry":"ring","repetitions":80}',
        ),
        _query("parse", "A c-string (X-Encoded-Params): answered with its decoded JSON, no render."),
        _query("health", "Present (no value needed): the server's state as JSON."),
        *OUTPUT_PARAMETERS,
    ],
    "requestBody": {
        "required": False,
        "description": "POST: the scene as JSON (flat SceneParams, Leva-prefixed keys or {value} wrappers); "
        "{} draws the defaults",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    "responses": {
        "200": {
            "description": "The render (PNG, or JPEG for 0 < size < 1024; header X-Encoded-Params holds its "
            "c-string), or JSON for ?parse= and ?health",
            "content": {**IMAGES, "application/json": {"schema": {"type": "object"}}},
        },
        **ERRORS,
    },
}
RENDER = {
    "parameters": [
        {
            **_query(
                "c", "The c-string to draw (X-Encoded-Params of an /api/raster answer); empty: defaults."
            ),
            "required": True,
        },
        *OUTPUT_PARAMETERS,
    ],
    "responses": {
        "200": {"description": "The render", "content": IMAGES},
        **ERRORS,
        "400": {"description": "A malformed c-string"},
    },
}


def tidy_schema(app: FastAPI) -> FastAPI:
    """Fix what one route for every method does to `app`'s schema: its declarations reach GET and HEAD too,
    where a request body is a wrong example (dropped), and FastAPI gives each method the route's one
    operationId, warning of duplicates (each gets `<method>_<path>`, unique, for client generators)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Duplicate Operation ID")
                spec = build()
            for path, item in spec["paths"].items():
                for method, operation in item.items():
                    if method in ("get", "head"):
                        operation.pop("requestBody", None)
                    operation["operationId"] = f"{method}_{path.strip('/').replace('/', '_') or 'root'}"
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
    return app
