"""The ASGI app factory: one FastAPI app owning one render pool, for the CLI, the Gradio app and tests."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.docs_page import install_offline_docs
from app.api.errors import install_handlers
from app.api.health import version
from app.api.pool import RenderPool
from app.api.routes import router
from app.api.schema import tidy_schema
from app.api.worker import render_image, warm_up


def create_app(
    *, workers: int | None = None, pool: str = "thread", max_waiting: int = 64, warm: bool = True
) -> FastAPI:
    """A FastAPI app serving `/api/raster` (and its offline reference at `/docs`).

    workers: renders at once (default: the usable CPU cores); pool: "thread" or "process";
    max_waiting: requests that may wait for a worker before the API answers 503; warm: load the renderer's
    kernels in every worker at start-up. The pool starts with the app's lifespan, or on the first render
    when the app is mounted inside another app (sub-app lifespans do not run).
    """
    render_pool = RenderPool(pool, workers, max_waiting, warm_up=warm_up if warm else None)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        render_pool.start()
        try:
            yield
        finally:
            render_pool.close()

    app = FastAPI(
        title="bb-match /api/raster",
        version=version(),
        description="The bb-particles renderer's /api/raster contract, served by the local renderer twin.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's Swagger UI and ReDoc load from a CDN: blank offline; see app.api.docs_page
        redoc_url=None,
    )
    app.state.pool = render_pool
    app.state.started = time.monotonic()
    app.state.render_job = render_image  # (params, width, height, fmt) → (bytes, seconds); a seam for tests
    install_handlers(app)
    app.include_router(router)
    tidy_schema(app)
    install_offline_docs(app)
    return app
