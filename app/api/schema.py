"""What the `/api/raster` and `/render` routes take and give, for their OpenAPI schema (and so `/docs`).

The handlers read `request.query_params` themselves (the original's rules: `?health` with no value, one
route for every method), so FastAPI cannot see their parameters; these declarations name them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.api.inputs import MAX_BODY, SIDE_ALLOWED, SIZE_ALLOWED


def _query(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": kind},
    }


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
        _query("params", "Scene parameters as URL-encoded JSON (flat, Leva-prefixed or wrapped): rendered."),
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
    "responses": {"200": {"description": "The render", "content": IMAGES}, **ERRORS},
}


def without_get_bodies(app: FastAPI) -> FastAPI:
    """Drop the request body from GET and HEAD operations in `app`'s schema: one route serves every method,
    so its declarations reach all of them, and a GET with a body would be a wrong example."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            for item in build()["paths"].values():
                for method in ("get", "head"):
                    item.get(method, {}).pop("requestBody", None)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
    return app
