"""RemoteRenderer against a real local HTTP server that speaks the `/api/raster` contract (renderer-spec §8).

A real socket (not a mocked session), so that timeouts, refused connections, retries and keep-alive behave
the way they do against the original.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image

from core.render.base import RenderError
from core.render.remote import RemoteRenderer, map_square, normalize_url

SIDE = 1024
PARSED = {"Element.geometry": {"value": "ring"}, "Groups.g0.g0-color": {"value": "#ff0000", "disabled": True}}


def _gradient() -> np.ndarray:
    """RGBA 1024²: R encodes the row index, G the column index; alpha varies so dropping it is checked."""
    idx = np.arange(SIDE, dtype=np.float64)
    img = np.zeros((SIDE, SIDE, 4), dtype=np.uint8)
    img[..., 0] = np.round(idx * 255 / (SIDE - 1))[:, None]
    img[..., 1] = np.round(idx * 255 / (SIDE - 1))[None, :]
    img[..., 2] = 60
    img[..., 3] = (idx.astype(np.uint8))[None, :]
    return img


GRADIENT = _gradient()


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


PNG = _png(GRADIENT)


def encoded_for(params: dict[str, Any]) -> str:
    """The fake server's stand-in for the c-string: deterministic per body."""
    return "c" + hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]


class FakeRaster:
    """State of the fake original: the misbehaviour to play and what it received."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.reset()

    def reset(self) -> None:
        self.release.set()  # let a still-sleeping slow handler finish
        self.release = threading.Event()
        self.mode = "ok"
        self.fail_times = 0
        self.failed = 0
        self.requests: list[tuple[str, str, Any]] = []

    def posts(self) -> list[tuple[str, str, Any]]:
        return [r for r in self.requests if r[0] == "POST"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like Next.js, so sessions reuse connections

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def fake(self) -> FakeRaster:
        return self.server.fake  # type: ignore[attr-defined]

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        params = json.loads(body)
        with self.fake.lock:
            self.fake.requests.append(("POST", self.path, params))
        self._raster(params)

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        with self.fake.lock:
            self.fake.requests.append(("GET", self.path, query))
        if "health" in query:
            self._json(200, {"ok": True, "pool": 4, "renders": len(self.fake.posts()), "fails": 0})
        elif query.get("parse", [""])[0]:
            self._json(200, PARSED if query["parse"][0] == "known" else {})
        elif "params" in query:
            self._raster(json.loads(query["params"][0]))
        else:
            self._json(400, {"error": "Missing ?params= or ?parse= param"})

    def _raster(self, params: dict[str, Any]) -> None:
        fake = self.fake
        mode = fake.mode
        if mode == "recycle":
            with fake.lock:
                recycle = fake.failed < fake.fail_times
                fake.failed += recycle
            if recycle:
                return self._send(503, b"Recycling", "text/plain")
        elif mode == "render_failed":
            return self._send(500, b"Render failed", "text/plain")
        elif mode == "generic500":
            return self._send(500, b"Internal Server Error", "text/plain")
        elif mode == "html":
            return self._send(200, b"<!DOCTYPE html><html>Next.js</html>", "text/html; charset=utf-8")
        elif mode == "truncated":
            return self._send(200, PNG[: len(PNG) // 2], "image/png")
        elif mode == "bad_request":
            return self._json(400, {"error": "Unsupported body: expected a JSON object"})
        elif mode == "slow":
            fake.release.wait(3.0)
        with contextlib.suppress(OSError):  # the client may have given up (timeout) and closed the socket
            self._send(200, PNG, "image/png", {"X-Encoded-Params": encoded_for(params)})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # broken pipes after client timeouts are expected here


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, FakeRaster]]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.fake = FakeRaster()  # type: ignore[attr-defined]
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", srv.fake  # type: ignore[attr-defined]
    srv.fake.release.set()  # type: ignore[attr-defined]
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def fake(server: tuple[str, FakeRaster]) -> Iterator[FakeRaster]:
    server[1].reset()
    yield server[1]
    server[1].reset()


@pytest.fixture
def base_url(server: tuple[str, FakeRaster]) -> str:
    return server[0]


@pytest.fixture
def renderer(base_url: str, fake: FakeRaster) -> Iterator[RemoteRenderer]:
    with RemoteRenderer(base_url, timeout=5.0, retries=3, backoff=0.001) as r:
        yield r  # type: ignore[misc]


def _area_1d(values: np.ndarray, start: float, length: float, n: int) -> np.ndarray:
    """Exact area average of a step function over n equal cells of [start, start+length] (the reference)."""
    cum = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])

    def integral(t: np.ndarray) -> np.ndarray:
        i = np.clip(np.floor(t).astype(int), 0, len(values) - 1)
        return cum[i] + values[i] * (t - i)

    edges = start + length * np.arange(n + 1) / n
    return (integral(edges[1:]) - integral(edges[:-1])) / (length / n)


# -- happy path and mapping ---------------------------------------------------------------------------


def test_square_render_is_the_png_without_alpha(renderer: RemoteRenderer, fake: FakeRaster) -> None:
    out = renderer.render({"repetitions": 100})
    assert out.dtype == np.uint8 and out.shape == (SIDE, SIDE, 3)
    np.testing.assert_array_equal(out, GRADIENT[..., :3])
    assert renderer.last_encoded == encoded_for({"repetitions": 100})
    ((method, path, _),) = fake.posts()
    assert method == "POST" and path == "/api/raster"  # no ?size=: that would be a lossy JPEG


def test_landscape_is_the_centre_rows_area_resized(renderer: RemoteRenderer) -> None:
    width, height = 1652, 919
    out = renderer.render({}, width, height)
    assert out.shape == (height, width, 3)
    rows = SIDE * height / width  # 569.67 rows: the camera shows 5 units across whatever the aspect
    top = (SIDE - rows) / 2
    ref_r = _area_1d(GRADIENT[:, 0, 0].astype(float), top, rows, height)
    ref_g = _area_1d(GRADIENT[0, :, 1].astype(float), 0.0, SIDE, width)
    assert np.abs(out[..., 0].astype(float) - ref_r[:, None]).max() <= 1.0
    assert np.abs(out[..., 1].astype(float) - ref_g[None, :]).max() <= 1.0
    assert (out[..., 2] == 60).all()
    assert 55 <= out[0, 0, 0] <= 58 and 197 <= out[-1, 0, 0] <= 200  # rows ≈227 and ≈796 of 1023


def test_smaller_square_is_an_area_downsample(renderer: RemoteRenderer) -> None:
    out = renderer.render({}, 512, 512)
    ref = GRADIENT[..., :3].astype(float).reshape(512, 2, 512, 2, 3).mean(axis=(1, 3))
    assert np.abs(out - ref).max() <= 1.0


def test_portrait_is_refused_before_any_request(renderer: RemoteRenderer, fake: FakeRaster) -> None:
    with pytest.raises(RenderError, match="portrait 919×1652"):
        renderer.render({}, 919, 1652)
    assert fake.requests == []


def test_map_square_handles_fractional_crops_and_modes() -> None:
    img = Image.fromarray(GRADIENT[:100, :100, :3].copy()).convert("L")
    assert map_square(img, 100, 100).shape == (100, 100, 3)
    assert map_square(img, 300, 7).shape == (7, 300, 3)
    with pytest.raises(RenderError, match="portrait"):
        map_square(img, 99, 100)


@pytest.mark.parametrize(
    "params",
    [
        {"geometry": "ring", "repetitions": 120, "layers": [{"position": {"x": 0.1, "y": -0.4}}]},
        {"Element.geometry": "ring", "Scalars.repetitions": 120, "Groups.g0.g0-scale": {"x": -1, "y": 1}},
        {"Element.geometry": {"value": "ring"}, "Groups.g0.g0-color": {"value": "#fff", "disabled": True}},
    ],
    ids=["flat", "prefixed", "wrapped"],
)
def test_params_are_posted_as_given(
    renderer: RemoteRenderer, fake: FakeRaster, params: dict[str, Any]
) -> None:
    renderer.render(params)
    assert fake.posts()[0][2] == params
    assert renderer.last_encoded == encoded_for(params)


def test_numpy_values_serialise_and_nan_is_refused(renderer: RemoteRenderer, fake: FakeRaster) -> None:
    renderer.render({"repetitions": np.float32(12.5), "gradientRange": np.array([0.0, 1.0])})
    assert fake.posts()[0][2] == {"repetitions": 12.5, "gradientRange": [0.0, 1.0]}
    with pytest.raises(RenderError, match="JSON"):
        renderer.render({"repetitions": float("nan")})
    assert len(fake.posts()) == 1


@pytest.mark.parametrize("suffix", ["", "/", "/api/raster", "/api/raster/"])
def test_base_url_or_endpoint(base_url: str, suffix: str) -> None:
    assert normalize_url(base_url + suffix) == base_url + "/api/raster"


def test_url_without_scheme_and_with_prefix() -> None:
    assert normalize_url("localhost:3000") == "http://localhost:3000/api/raster"
    assert normalize_url("https://host/bb/") == "https://host/bb/api/raster"


def test_health_and_parse(renderer: RemoteRenderer, fake: FakeRaster) -> None:
    assert renderer.health()["ok"] is True
    assert renderer.parse("known") == PARSED
    assert renderer.parse("garbage") == {}
    paths = [path for method, path, _ in fake.requests]
    assert paths == ["/api/raster?health", "/api/raster?parse=known", "/api/raster?parse=garbage"]
    with pytest.raises(RenderError, match="Missing"):  # an empty c-string is "no parse param" to the server
        renderer.parse("")


def test_thread_pool_gets_per_thread_sessions_and_c_strings(renderer: RemoteRenderer) -> None:
    def job(i: int) -> bool:
        params = {"repetitions": i}
        out = renderer.render(params, 256, 128)
        return out.shape == (128, 256, 3) and renderer.last_encoded == encoded_for(params)

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert all(pool.map(job, range(30)))
    assert 1 <= len(renderer._sessions) <= 6
    renderer.close()
    assert renderer._sessions == []
    assert renderer.render({}).shape == (SIDE, SIDE, 3)  # usable again after close()


# -- misbehaviours ------------------------------------------------------------------------------------


def test_recycling_is_retried_until_it_succeeds(renderer: RemoteRenderer, fake: FakeRaster) -> None:
    fake.mode, fake.fail_times = "recycle", 2
    out = renderer.render({"repetitions": 7})
    np.testing.assert_array_equal(out, GRADIENT[..., :3])
    assert len(fake.posts()) == 3 and fake.failed == 2
    assert renderer.last_encoded == encoded_for({"repetitions": 7})


def test_recycling_forever_gives_up(base_url: str, fake: FakeRaster) -> None:
    fake.mode, fake.fail_times = "recycle", 99
    with RemoteRenderer(base_url, retries=2, backoff=0.001) as r, pytest.raises(RenderError) as err:
        r.render({})
    assert "503" in str(err.value) and "Recycling" in str(err.value) and "3 tries" in str(err.value)
    assert len(fake.posts()) == 3


def test_render_failed_is_retried_then_reported(renderer: RemoteRenderer, fake: FakeRaster) -> None:
    renderer.render({})
    fake.mode = "render_failed"
    with pytest.raises(RenderError, match="Render failed") as err:
        renderer.render({})
    assert "4 tries" in str(err.value)
    assert len(fake.posts()) == 1 + 4
    assert renderer.last_encoded is None  # the failed render does not keep the previous c-string


def test_generic_500_is_not_retried(renderer: RemoteRenderer, fake: FakeRaster) -> None:
    fake.mode = "generic500"
    with pytest.raises(RenderError, match=r"500: Internal Server Error.*malformed body"):
        renderer.render({})
    assert len(fake.posts()) == 1


def test_html_answer_names_content_type_and_first_bytes(renderer: RemoteRenderer, fake: FakeRaster) -> None:
    fake.mode = "html"
    with pytest.raises(RenderError) as err:
        renderer.render({})
    assert "text/html" in str(err.value) and "<!DOCTYPE html>" in str(err.value)
    assert len(fake.posts()) == 1


def test_truncated_png_is_reported(renderer: RemoteRenderer, fake: FakeRaster) -> None:
    fake.mode = "truncated"
    with pytest.raises(RenderError) as err:
        renderer.render({})
    assert "undecodable image/png" in str(err.value) and "\\x89PNG" in str(err.value)
    assert len(fake.posts()) == 1


def test_4xx_carries_the_server_error(renderer: RemoteRenderer, fake: FakeRaster) -> None:
    fake.mode = "bad_request"
    with pytest.raises(RenderError, match="400: Unsupported body: expected a JSON object"):
        renderer.render({})
    assert len(fake.posts()) == 1


def test_slow_answer_times_out(base_url: str, fake: FakeRaster) -> None:
    fake.mode = "slow"
    start = time.monotonic()
    with (
        RemoteRenderer(base_url, timeout=0.5, retries=3, backoff=0.001) as r,
        pytest.raises(RenderError) as err,
    ):
        r.render({})
    assert time.monotonic() - start < 2.0  # a read timeout is not retried
    assert "0.5 s read timeout" in str(err.value)
    assert len(fake.posts()) == 1


def test_closed_port_says_what_to_start(fake: FakeRaster) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed on exit: nothing listens there now
    url = f"http://127.0.0.1:{port}"
    with RemoteRenderer(url, retries=2, backoff=0.001) as r:
        with pytest.raises(RenderError) as err:
            r.render({})
        message = str(err.value)
        assert f"{url}/api/raster" in message and "connection refused" in message
        assert "npm run dev" in message and "renderer='local'" in message and "3 tries" in message
        with pytest.raises(RenderError, match="connection refused"):
            r.health()
