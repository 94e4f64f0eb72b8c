"""Client for the original bb-particles `/api/raster` (renderer-spec §8), behind the `Renderer` interface.

The original is the ground truth the local twin is checked against, but it is a separate Node/Chromium
service that recycles browsers, fails renders and is often simply not running. This client hides the
transient failures (retries with backoff) and turns the permanent ones into a `RenderError` that says what
to do.

Thread safety: one `requests.Session` per thread (`threading.local`), because sessions are not documented as
thread-safe and a shared pool would serialise a thread pool on its connection limit. `last_encoded` is per
thread too, so each worker sees the c-string of its own last render. `close()` closes every thread's session.
"""

from __future__ import annotations

import io
import json
import os
import random
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import requests
from PIL import Image

from core.render.base import Params, Renderer, RenderError
from core.urls import http_url

API_PATH = "/api/raster"
DEFAULT_URL = "http://localhost:3000"
SQUARE = 1024  # the original's only lossless size: its viewport is 1024² CSS px at DPR 1 (spec §1, §8)
_HINT = "Start it (`npm run dev` in bb-particles) or use the local renderer twin (renderer='local')."


def normalize_url(url: str) -> str:
    """Accept a base URL (`http://localhost:3000`, with or without a prefix path) or the full endpoint."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if not path.endswith(API_PATH):
        path += API_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _json_default(obj: Any) -> Any:
    """Let NumPy scalars/arrays from samplers and optimisers pass through json.dumps."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _server_text(resp: requests.Response, limit: int = 300) -> str:
    """The server's error message: `{"error": ...}` when JSON, else the start of the body."""
    try:
        data = resp.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and "error" in data:
        return str(data["error"])[:limit]
    return resp.text.strip()[:limit] or "(empty body)"


def _connection_reason(exc: BaseException) -> str:
    """A short human reason for a connection failure (the requests message is a long wrapped chain)."""
    text = str(exc)
    low = text.lower()
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timeout"
    if "refused" in low:
        return "connection refused"
    if "name or service not known" in low or "nodename nor servname" in low or "getaddrinfo" in low:
        return "unknown host"
    if "reset by peer" in low or "remotedisconnected" in low or "aborted" in low:
        return "connection dropped"
    return text[:200]


def _check_aspect(src_w: int, src_h: int, width: int, height: int) -> float:
    """Rows of the source that width×height shows; RenderError when it needs more than the source has."""
    rows = src_w * height / width
    if rows > src_h * (1 + 1e-9):
        raise RenderError(
            f"Cannot produce a portrait {width}×{height} image from the remote renderer: it only renders "
            f"{src_w}×{src_h}, and a taller aspect shows content above and below that render "
            f"(the visible width is fixed at 5 world units). Use width ≥ height or the local renderer twin."
        )
    return rows


def map_square(img: Image.Image, width: int, height: int) -> np.ndarray:
    """Map a render to width×height the way the camera would have drawn it (spec §1).

    The visible width is always 5 world units, so a wider aspect only shows fewer rows: take the centre
    `src_w·height/width` rows (the crop edges may fall between rows) and area-resize them. Pixel-space
    effects (MSAA, noise grain, CRT mask) are thereby resampled from the source resolution, not re-rendered.
    """
    src_w, src_h = img.size
    rows = _check_aspect(src_w, src_h, width, height)
    rgb = img.convert("RGB")  # drops alpha: the page background is black, light is in RGB (spec §1)
    if (width, height) != (src_w, src_h):
        top = (src_h - rows) / 2
        rgb = rgb.resize((width, height), Image.Resampling.BOX, box=(0.0, top, float(src_w), top + rows))
    return np.asarray(rgb, dtype=np.uint8).reshape(height, width, 3)


class _Retry(Exception):
    """A transient failure worth another try; carries the message to raise once the tries run out."""


class RemoteRenderer(Renderer):
    """Renders through an external original bb-particles `/api/raster`.

    `retries` extra tries follow a 503 "Recycling", a 500 "Render failed", a 502/504 or a connection error,
    after `backoff·2^k` seconds (±25 % jitter so a pool of threads does not retry in lockstep, capped at
    `max_backoff`). Read timeouts are not retried: a stuck server would otherwise cost `retries·timeout`.
    """

    name = "remote"

    def __init__(
        self,
        url: str | None = None,
        *,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 1.0,
        max_backoff: float = 8.0,
    ) -> None:
        given = url or os.environ.get("BB_RENDERER_URL") or DEFAULT_URL
        self.url = normalize_url(http_url(given, "renderer address", f"{DEFAULT_URL}{API_PATH}"))
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sessions: list[requests.Session] = []
        self._generation = 0  # bumped by close(), so threads drop their closed sessions

    def __repr__(self) -> str:
        return f"RemoteRenderer({self.url!r}, timeout={self.timeout}, retries={self.retries})"

    # -- sessions -------------------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        local = self._local
        if getattr(local, "generation", None) != self._generation:
            session = requests.Session()
            session.headers["Accept"] = "image/png, application/json;q=0.9, */*;q=0.1"
            with self._lock:
                self._sessions.append(session)
                local.generation = self._generation
            local.session = session
        return local.session

    def close(self) -> None:
        """Close every thread's session; later calls open fresh ones."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
            self._generation += 1
        for session in sessions:
            session.close()

    @property
    def last_encoded(self) -> str | None:
        """`X-Encoded-Params` of this thread's last render: the c-string that reproduces it (`/render?c=`)."""
        return getattr(self._local, "encoded", None)

    # -- transport ------------------------------------------------------------------------------------

    def _request(self, method: str, *, tries: int | None = None, **kwargs: Any) -> requests.Response:
        """Send with retries; return a 2xx response or raise RenderError with an actionable message."""
        tries = self.retries + 1 if tries is None else max(1, tries)
        message = ""
        for attempt in range(tries):
            if attempt:
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                time.sleep(delay * random.uniform(0.75, 1.25))
            try:
                return self._once(method, **kwargs)
            except _Retry as exc:
                message = str(exc)
        raise RenderError(f"{message} Gave up after {tries} tr{'y' if tries == 1 else 'ies'}.")

    def _once(self, method: str, **kwargs: Any) -> requests.Response:
        try:
            resp = self._session().request(
                method, self.url, timeout=(self.connect_timeout, self.timeout), **kwargs
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise _Retry(
                f"Cannot reach the bb-particles renderer at {self.url} (no connection within "
                f"{self.connect_timeout:g} s). {_HINT}"
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise RenderError(
                f"The bb-particles renderer at {self.url} did not answer within the {self.timeout:g} s read "
                f"timeout. It may be overloaded or stuck (its own page waits are 30 s each): check "
                f"{self.url}?health, or raise RemoteRenderer(timeout=...)."
            ) from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            if "timed out" in str(exc).lower():  # a read timeout while streaming the body surfaces here
                raise RenderError(
                    f"The bb-particles renderer at {self.url} stalled mid-answer beyond the "
                    f"{self.timeout:g} s read timeout. Check {self.url}?health."
                ) from exc
            raise _Retry(
                f"Cannot reach the bb-particles renderer at {self.url} ({_connection_reason(exc)}). {_HINT}"
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise RenderError(f"Request to the bb-particles renderer at {self.url} failed: {exc}") from exc

        if resp.ok:
            return resp
        text = _server_text(resp)
        status = resp.status_code
        if status == 503:
            raise _Retry(
                f"The bb-particles renderer at {self.url} kept answering 503 {text!r}: it is recycling its "
                f"browser. Try again shortly; if it persists, check {self.url}?health."
            )
        if status == 500 and "render failed" in text.lower():
            raise _Retry(
                f"The bb-particles renderer at {self.url} answered 500 'Render failed': its headless page "
                f"failed or timed out. Check the server log and {self.url}?health."
            )
        if status in (502, 504):
            raise _Retry(f"The gateway in front of {self.url} answered {status} {text!r}.")
        hint = " (a generic 500 means a malformed body or a pool wait over 30 s)" if status == 500 else ""
        raise RenderError(f"The bb-particles renderer at {self.url} answered {status}: {text}{hint}")

    def _json(self, resp: requests.Response, what: str) -> dict[str, Any]:
        try:
            data = resp.json()
        except ValueError as exc:
            ctype = resp.headers.get("Content-Type", "(none)")
            raise RenderError(
                f"The {what} answer from {self.url} is not JSON ({ctype}, starts {resp.content[:32]!r})."
            ) from exc
        if not isinstance(data, dict):
            raise RenderError(f"The {what} answer from {self.url} is not a JSON object: {str(data)[:100]}")
        return data

    # -- API ------------------------------------------------------------------------------------------

    def render(self, params: Params, width: int = 1024, height: int = 1024) -> np.ndarray:
        """POST params as given (flat, prefixed or wrapped; spec §2.1), fetch the 1024² PNG, map to W×H.

        No `?size=` is sent: below 1024 the original answers a lossy JPEG (spec §8), so resizing happens here.
        """
        width, height = int(width), int(height)
        if width <= 0 or height <= 0:
            raise RenderError(f"Invalid render size {width}×{height}.")
        _check_aspect(SQUARE, SQUARE, width, height)  # fail before spending a render
        if not isinstance(params, Mapping):
            raise RenderError(f"params must be a mapping, got {type(params).__name__}.")
        try:
            body = json.dumps(dict(params), default=_json_default, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise RenderError(f"params are not JSON-serialisable for the remote renderer: {exc}") from exc

        self._local.encoded = None  # a failed render must not leave the previous c-string behind
        resp = self._request("POST", data=body, headers={"Content-Type": "application/json"})
        ctype = resp.headers.get("Content-Type", "")
        content = resp.content
        if not ctype.lower().startswith("image/"):
            raise RenderError(
                f"The bb-particles renderer at {self.url} answered 200 with {ctype or 'no content type'} "
                f"instead of an image ({len(content)} bytes, starts {content[:32]!r}). Is the URL the "
                f"`/api/raster` of bb-particles?"
            )
        try:
            img = Image.open(io.BytesIO(content))
            img.load()
        except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError… on corrupt data
            raise RenderError(
                f"The bb-particles renderer at {self.url} sent an undecodable {ctype} ({len(content)} bytes, "
                f"starts {content[:16]!r}): {exc}"
            ) from exc
        self._local.encoded = resp.headers.get("X-Encoded-Params")
        return map_square(img, width, height)

    def health(self) -> dict[str, Any]:
        """GET `?health` once (no retries: a down server is reported at once); field names vary by version."""
        return self._json(self._request("GET", params="health", tries=1), "health")

    def parse(self, cstring: str) -> dict[str, Any]:
        """Decode a c-string on the server (`?parse=`): `{key: {value[, disabled]}}`, `{}` when malformed."""
        return self._json(self._request("GET", params={"parse": cstring}), "parse")
