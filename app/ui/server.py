"""One ASGI app: the `/api/raster` API (when `app.api` provides its factory) with the Gradio UI at `/`."""

from __future__ import annotations

import logging
import time
import warnings

import gradio as gr
import numpy as np
from fastapi import FastAPI

from app.ui import match, resources
from app.ui.layout import CSS, build_ui
from app.ui.settings import load_settings
from core.metrics import match_report
from core.params import defaults
from core.refine import FlatTargetWarning
from core.render import render
from core.shared_pool import warm_shared_pool

log = logging.getLogger("app.ui")


def api_app() -> FastAPI:
    """The /api/raster FastAPI app, or a bare FastAPI app when `app.api` has no factory in this build."""
    try:
        from app.api import create_app
    except ImportError as exc:
        log.warning("/api/raster not mounted: %s", exc)
        return bare_app()
    return create_app()


def bare_app() -> FastAPI:
    """A root app without the API. FastAPI's own /docs and /redoc load from a CDN (blank offline), so they are
    off; the offline reference replaces them when `app.api` provides it."""
    root = FastAPI(title="bb-match", docs_url=None, redoc_url=None)
    try:
        from app.api.docs_page import install_offline_docs
    except ImportError:
        return root
    return install_offline_docs(root)


def warm_up(home: str) -> float:
    """Compile the renderer's kernels, load the inverse model and start the refinement's worker pool now, so
    the first upload and the first Refine are fast; returns the seconds spent."""
    t0 = time.perf_counter()
    for quality in ("fast", "exact"):
        render(defaults(), 64, 36, quality=quality)
    image = np.zeros((90, 160, 3), np.float32)
    match_report(image, image, lpips=False)
    for height in (90, 50):  # caches the sampler draws' screening renders for 16:9 and Figma's 1652×919
        match.start_point(np.zeros((height, 160, 3), np.float32), None, "", None)
    settings = load_settings(home)
    _, note = resources.model_for(settings.checkpoint)
    if note:
        log.warning("%s", note)
    if settings.refine_workers > 1:  # forked after the renders above: the workers inherit their kernels
        warm_shared_pool(settings.refine_workers, render, defaults(), 64, 36, "fast")
    return time.perf_counter() - t0


def create_server(home: str, *, api: bool = True, warm: bool = True) -> FastAPI:
    """The FastAPI app serving the Gradio UI at `/` (and `/api/raster` when `api`)."""
    warnings.filterwarnings("ignore", category=FlatTargetWarning)  # the upload's status line says it
    if warm:
        log.info("warm-up took %.1f s", warm_up(home))
    demo = build_ui(home).queue(default_concurrency_limit=4)
    root = api_app() if api else bare_app()
    # gradio 6 takes the page's CSS here, not in Blocks (where it was silently never applied)
    return gr.mount_gradio_app(root, demo, path="", footer_links=["api", "gradio"], css=CSS)
