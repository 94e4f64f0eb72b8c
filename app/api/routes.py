"""The `/api/raster` endpoints (and `/render?c=`): thin handlers that read the request, hand the render to
the pool, answer."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.api.errors import RENDER_FAILED, ApiError
from app.api.health import health_body
from app.api.imaging import MEDIA_TYPES
from app.api.inputs import Output, checked_cstring, output_for, parse_params, read_body
from app.api.pool import PoolBusy
from app.api.schema import RASTER, RENDER
from core.params import CodecError, ParamsError, decode
from core.render import RenderError

log = logging.getLogger("app.api")
router = APIRouter()
MISSING = "Missing ?params= or ?parse= param"  # the original's exact wording
MISSING_C = "Missing ?c= param: /render?c=<c-string> draws the scene that c-string encodes"


@router.api_route(
    "/api/raster", methods=["GET", "HEAD", "POST"], response_class=Response, openapi_extra=RASTER
)
async def raster(request: Request) -> Response:
    """One route for every method, so a 405 names them all (`Allow: GET, HEAD, POST`); HEAD answers
    what GET would, without the body (a supervisor's `curl -I …?health`)."""
    if request.method == "POST":
        return await raster_post(request)
    return await raster_get(request)


async def raster_post(request: Request) -> Response:
    """Render the JSON body (flat, Leva-prefixed or wrapped): PNG, or JPEG for 0 < ?size= < 1024."""
    if given := [name for name in ("params", "parse", "health") if name in request.query_params]:
        raise ApiError(400, f"?{given[0]}= is a GET query; a POST takes the scene in its body only")
    output = output_for(request.query_params)
    body = await read_body(request)
    params = parse_params(body, "the request body", request.headers.get("content-type", ""))
    return await _render(request, params, output)


async def raster_get(request: Request) -> Response:
    """`?health`, `?parse=<c-string>`, or `?params=<JSON>` rendered like a POST (checked in that order);
    an empty one is missing, as in the original."""
    query = request.query_params
    if "health" in query:
        state = request.app.state
        return JSONResponse(health_body(state.pool, state.started))
    if query.get("parse"):
        return JSONResponse(_parse(query["parse"]))
    if query.get("params"):
        output = output_for(query)
        return await _render(request, parse_params(query["params"], "?params="), output)
    raise ApiError(400, MISSING)


@router.api_route("/render", methods=["GET", "HEAD"], response_class=Response, openapi_extra=RENDER)
async def render_page(request: Request) -> Response:
    """The original's `/render?c=<c-string>` page, as the image it shows (1024² PNG; `?size=` and
    `?width=&height=` as for /api/raster). The twin has no page to mount, so this is what it can answer:
    the "render alone" link that core.render.links makes draws here too. `?c=` empty is the c-string of
    `{}` (the X-Encoded-Params of a render of the defaults): the default scene."""
    query = request.query_params
    if "c" not in query:
        raise ApiError(400, MISSING_C)
    return await _render(request, _parse(query["c"]), output_for(query))


def _parse(text: str) -> dict[str, Any]:
    try:
        return decode(text)
    except CodecError as err:
        raise ApiError(400, f"Malformed c-string: {err}", value=text[:200]) from None


async def _render(request: Request, params: dict[str, Any], output: Output) -> Response:
    cstring = checked_cstring(params)
    state = request.app.state
    try:
        job = (params, output.width, output.height, output.fmt)
        data, seconds = await state.pool.run(state.render_job, *job)
    except PoolBusy as err:
        raise ApiError(503, f"Busy: {err}; retry shortly", headers={"Retry-After": "1"}) from None
    except ParamsError as err:
        raise ApiError.from_params(err) from None
    except RenderError as err:
        raise ApiError(422, str(err)) from None
    except Exception:
        log.exception("render of %s at %d×%d failed", cstring[:80], output.width, output.height)
        raise ApiError(500, RENDER_FAILED) from None
    headers = {
        "Cache-Control": "no-store",
        "X-Encoded-Params": cstring,
        "Server-Timing": f"render;dur={1000 * seconds:.1f}",
    }
    return Response(data, media_type=MEDIA_TYPES[output.fmt], headers=headers)
