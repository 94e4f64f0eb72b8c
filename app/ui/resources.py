"""Shared, read-mostly resources the sessions use: stores, the inverse model, renderers and judges, one per
location/spec, cached (`clear()` empties the caches). All are safe to share between threads."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.inverse import CheckpointError, load_model
from core.judge import Judge, create_judge
from core.render import Renderer, RenderError, get_renderer
from core.render.remote import RemoteRenderer
from core.store import Store

_lock = threading.Lock()
_stores: dict[str, Store] = {}


def store_for(data_dir: str) -> Store:
    """The Store of a data directory (created on first use)."""
    key = str(Path(data_dir).expanduser().resolve())
    with _lock:
        if key not in _stores:
            _stores[key] = Store(key)
        return _stores[key]


@lru_cache(maxsize=4)
def _model(path: str, mtime: float) -> Any:
    return load_model(path, device="cpu")


def model_for(checkpoint: str) -> tuple[Any | None, str]:
    """(the inverse model, "") or (None, why not): a missing or broken checkpoint is a message."""
    path = Path(checkpoint).expanduser()
    if not path.is_file():
        return None, (
            f"No inverse-model checkpoint at `{path}` (train one with `python -m train.train_inverse`, "
            "or set its path in Settings)"
        )
    try:
        with _lock:
            return _model(str(path.resolve()), path.stat().st_mtime), ""
    except (CheckpointError, RuntimeError, OSError, KeyError, ValueError) as exc:
        return None, f"The checkpoint `{path}` could not be loaded: {exc}"


@lru_cache(maxsize=4)
def _renderer(spec: str) -> Renderer:
    return get_renderer(spec)


def renderer_for(spec: str) -> Renderer:
    """A renderer by spec ("local" or an /api/raster URL); ValueError for an unknown spec."""
    with _lock:
        return _renderer(spec.strip() or "local")


def display_renderer(spec: str) -> tuple[Renderer, str]:
    """(the renderer by spec, "") for what the Match tab shows; (the local twin, a note that says why)
    when the spec is an original's /api/raster that does not answer its health check.

    Why: the first guess and the refinement are found with the twin either way, so a bb-particles that
    is not running must not lose them. It used to fail the whole upload with the server's message after
    ≈ 10 s of retries, the first guess thrown away."""
    renderer = renderer_for(spec)
    if not isinstance(renderer, RemoteRenderer):
        return renderer, ""
    try:
        renderer.health()  # one try: a server that is down says so at once
    except RenderError as exc:
        return renderer_for("local"), f"⚠️ {exc} Shown with the local renderer twin meanwhile."
    return renderer, ""


@lru_cache(maxsize=4)
def _judge(spec: str) -> Judge:
    return create_judge(spec)


def judge_for(spec: str) -> Judge:
    """A judge by spec ("proxy", "transformers:MODEL", "openai:URL"); loaded once and shared."""
    with _lock:
        return _judge(spec.strip() or "proxy")


def clear() -> None:
    """Close and forget every cached store; forget cached models and renderers."""
    with _lock:
        for store in _stores.values():
            store.close()
        _stores.clear()
        _model.cache_clear()
        _renderer.cache_clear()
        _judge.cache_clear()
