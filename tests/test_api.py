"""The /api/raster server against real clients on loopback: a uvicorn server on an ephemeral port per module.

Covers the original's contract (renderer-spec §8), the width/height extension, every error with its status
and JSON body, the plan's own generation loop, RemoteRenderer against it, concurrency, and the CLI.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
import uvicorn
from fastapi import FastAPI
from PIL import Image

from app.api import create_app
from app.api.inputs import MAX_BODY, MAX_LAYERS, SERVER_OPTIONS
from core.params import decode, encode, sample_params, to_prefixed
from core.render import render
from core.render.remote import RemoteRenderer, map_square

ROOT = Path(__file__).resolve().parents[1]
LIGHT = {"geometry": "arch", "repetitions": 24, "color": "#88ccff", "scaleFactor": 0.7}
# A sampled scene that takes ~1–3 s at 1024² on a 2-core machine (thick, large, 182 instances).
HEAVY = {
    "geometry": "infinity",
    "repetitions": 182,
    "alphaFactor": 0.709,
    "scaleFactor": 1.005,
    "rotationFactor": -0.519,
    "stepFactor": 0.394,
    "scaleProgression": "sine",
    "rotationProgression": "sine",
    "positionProgression": "scale",
    "xStep": -0.278,
    "yStep": -0.73,
    "position": {"x": 0, "y": -0.5},
    "rotation": -1.239,
    "scale": 1.754,
    "geoWidth": 0.091,
    "layers": [{"position": {"x": 0, "y": 0}, "rotation": 0, "scale": {"x": -1, "y": -1}}],
}


@contextlib.contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run `app` under uvicorn in a thread on 127.0.0.1:<ephemeral>; yield the /api/raster URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, **SERVER_OPTIONS))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/api/raster"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def wait_ready(url: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            health = requests.get(url, params="health", timeout=5).json()
            if health["pool"]["ready"]:
                return health
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready within {timeout} s")


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(create_app(workers=2)) as endpoint:
        wait_ready(endpoint)
        yield endpoint


def pixels(content: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(content)).convert("RGB"))


def assert_json_error(resp: requests.Response, status: int, fragment: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    body = resp.json()
    assert fragment in body["error"], body
    assert "Traceback" not in resp.text
    return body


# -- the original's contract -----------------------------------------------------------------------------


def test_post_defaults_is_a_1024_png_with_the_contract_headers(url: str) -> None:
    resp = requests.post(url, json={}, timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Encoded-Params"] == ""  # {} encodes to the empty string (codec-notes)
    img = Image.open(io.BytesIO(resp.content))
    assert (img.format, img.size) == ("PNG", (1024, 1024))
    assert np.array_equal(pixels(resp.content), render({}, 1024, 1024))


@pytest.mark.parametrize("size", ["", "0", "1024", "2048"])
def test_size_zero_or_at_least_1024_gives_the_1024_png(url: str, size: str) -> None:
    resp = requests.post(url, params={"size": size}, json=LIGHT, timeout=30)
    assert resp.status_code == 200, resp.text
    img = Image.open(io.BytesIO(resp.content))
    assert (resp.headers["Content-Type"], img.format, img.size) == ("image/png", "PNG", (1024, 1024))


def test_small_size_gives_a_jpeg_of_that_size(url: str) -> None:
    resp = requests.post(url, params={"size": 200}, json=LIGHT, timeout=30)
    assert resp.status_code == 200
    img = Image.open(io.BytesIO(resp.content))
    assert (resp.headers["Content-Type"], img.format, img.size) == ("image/jpeg", "JPEG", (200, 200))
    # lossy, but the same picture as a lossless render at that size
    diff = np.abs(pixels(resp.content).astype(int) - render(LIGHT, 200, 200).astype(int))
    assert diff.mean() < 3


def test_width_height_extension_gives_any_aspect_as_png(url: str) -> None:
    resp = requests.post(url, params={"width": 413, "height": 230}, json=LIGHT, timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "image/png"
    assert np.array_equal(pixels(resp.content), render(LIGHT, 413, 230))


def test_get_params_is_the_same_as_post(url: str) -> None:
    query = {"params": json.dumps(LIGHT), "size": 96}
    got = requests.get(url, params=query, timeout=30)
    posted = requests.post(url, params={"size": 96}, json=LIGHT, timeout=30)
    assert got.status_code == 200
    assert got.headers["Content-Type"] == "image/jpeg"
    assert got.content == posted.content
    assert got.headers["X-Encoded-Params"] == posted.headers["X-Encoded-Params"] == encode(LIGHT)


def test_a_scene_given_twice_or_a_size_given_twice_is_refused(url: str) -> None:
    """The body won over ?params= without a word, a POST ignored ?parse=, the last ?size= was taken."""
    for query in ({"params": json.dumps(LIGHT)}, {"parse": encode(LIGHT)}):
        resp = requests.post(url, params=query, json={}, timeout=30)
        assert resp.status_code == 400 and "is a GET query" in resp.json()["error"], resp.text
    resp = requests.get(url, params=[("params", json.dumps(LIGHT)), ("size", 100), ("size", 200)], timeout=30)
    assert resp.status_code == 422 and resp.json()["error"] == "?size= is given 2 times: give it once"


def test_a_long_get_is_answered_not_reset(url: str) -> None:
    """A GET ?params= as long as a POST body may be (here 0.4 MB) gets the API's own JSON answer; with
    uvicorn's h11 defaults (16 KB of request head) the connection was reset instead."""
    long = {**LIGHT, "note": "x" * (MAX_BODY * 2 // 5)}  # an unknown key: a quick 422 naming it
    resp = requests.get(url, params={"params": json.dumps(long)}, timeout=60)
    assert resp.status_code == 422 and resp.json()["key"] == "note"


def test_encoded_params_header_round_trips_through_every_form(url: str) -> None:
    flat = {
        **LIGHT,
        "layers": [{"position": {"x": 0.2, "y": 0}, "rotation": 0.5, "scale": {"x": -1, "y": 1}}],
    }
    query = {"width": 80, "height": 80}
    first = requests.post(url, params=query, json=flat, timeout=30)
    header = first.headers["X-Encoded-Params"]
    assert header == encode(flat)
    wrapped = decode(header)  # {key: {value[, disabled]}}, the form /render?c= hands to the scene
    assert wrapped["Element.geometry"] == {"value": "arch"}
    again = requests.post(url, params=query, json=wrapped, timeout=30)
    prefixed = requests.post(url, params=query, json=to_prefixed(flat), timeout=30)
    assert again.headers["X-Encoded-Params"] == header
    assert prefixed.headers["X-Encoded-Params"] == encode(to_prefixed(flat))
    assert first.content == again.content == prefixed.content


def test_out_of_range_numbers_are_clamped_not_rejected(url: str) -> None:
    query = {"width": 64, "height": 64}
    over = requests.post(url, params=query, json={"repetitions": 9999, "alphaFactor": 7}, timeout=30)
    at = requests.post(url, params=query, json={"repetitions": 500, "alphaFactor": 1}, timeout=30)
    assert over.status_code == at.status_code == 200
    assert over.content == at.content
    assert over.headers["X-Encoded-Params"] == encode({"repetitions": 9999, "alphaFactor": 7})


def test_parse_returns_the_decoded_c_string(url: str) -> None:
    cstring = encode({**LIGHT, "noise": {"enabled": True, "density": 0.2, "opacity": 0.1, "size": 0.3}})
    resp = requests.get(url, params={"parse": cstring}, timeout=10)
    assert resp.status_code == 200
    assert resp.json() == decode(cstring)
    assert resp.json()["Noise.enabled"] == {"value": True}


def test_render_page_draws_the_c_string(url: str) -> None:
    """`/render?c=` (the link core.render.links makes) answers with the image the original's page shows."""
    cstring = encode(LIGHT)
    page = url.replace("/api/raster", "/render")
    resp = requests.get(page, params={"c": cstring, "width": 96, "height": 54}, timeout=30)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/png"
    assert resp.headers["X-Encoded-Params"] == cstring
    assert np.array_equal(pixels(resp.content), render(LIGHT, 96, 54))
    small = requests.get(page, params={"c": cstring, "size": 64}, timeout=30)
    assert small.headers["Content-Type"] == "image/jpeg" and pixels(small.content).shape == (64, 64, 3)
    assert_json_error(requests.get(page, timeout=10), 400, "Missing ?c= param")
    assert_json_error(requests.get(page, params={"c": "!!"}, timeout=10), 400, "Malformed c-string")


def test_health_reports_renders_uptime_version_and_pool(url: str) -> None:
    before = requests.get(url, params="health", timeout=10).json()
    requests.post(url, params={"size": 32}, json={}, timeout=30).raise_for_status()
    after = requests.get(url + "?health", timeout=10).json()
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert after["ok"] is True
    assert after["version"] == version
    assert after["renders"] == before["renders"] + 1
    assert after["uptime_s"] > before["uptime_s"] > 0
    assert after["pool"]["kind"] == "thread"
    assert after["pool"]["workers"] == 2
    assert after["pool"]["busy"] == 0
    assert after["limits"] == {"max_side": 4096, "max_body_bytes": 1_000_000, "max_layers": 32}


# -- errors --------------------------------------------------------------------------------------------


def test_get_without_params_is_the_originals_400(url: str) -> None:
    for query in ({}, {"parse": ""}, {"params": ""}, {"size": 64}):
        resp = requests.get(url, params=query, timeout=10)
        assert resp.status_code == 400
        assert resp.json() == {"error": "Missing ?params= or ?parse= param"}


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b'{"geometry": "ring",', 400, "Malformed JSON in the request body: Expecting"),
        (b"", 400, "Nothing in the request body"),
        (b'{"repetitions": NaN}', 400, "NaN is not valid JSON"),
        (b"\xff\xfe{", 400, "Malformed JSON"),
        (b"[1, 2]", 422, "must be a JSON object"),
    ],
)
def test_unreadable_bodies_are_400_or_422_naming_the_problem(
    url: str, body: bytes, status: int, fragment: str
) -> None:
    resp = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert_json_error(resp, status, fragment)


def test_malformed_json_names_its_position(url: str) -> None:
    body = assert_json_error(requests.post(url, data=b'{"a": 1,,}', timeout=10), 400, "line 1 column 9")
    assert body["position"] == 8


@pytest.mark.parametrize(
    ("params", "key", "fragment"),
    [
        ({"geometry": "blob"}, "geometry", "unknown option"),
        ({"geometry": None}, "geometry", "unknown option"),
        ({"repetitions": "many"}, "repetitions", "not a number"),
        ({"repetitions": 2e6}, "repetitions", "2**30"),
        ({"colour": "#ffffff"}, "colour", "unknown key"),
        ({"color": "not-a-colour"}, "color", "color"),
    ],
)
def test_invalid_values_are_422_naming_key_value_and_allowed(
    url: str, params: dict[str, Any], key: str, fragment: str
) -> None:
    body = assert_json_error(requests.post(url, json=params, timeout=10), 422, fragment)
    assert body["key"] == key
    assert body["value"] == params[key]
    assert body["allowed"]


def test_an_infinite_number_is_422_with_a_json_safe_body(url: str) -> None:
    body = assert_json_error(requests.post(url, data=b'{"scale": 1e999}', timeout=10), 422, "not finite")
    assert (body["key"], body["value"]) == ("scale", "inf")


def test_invalid_values_in_get_params_are_422_too(url: str) -> None:
    resp = requests.get(url, params={"params": json.dumps({"origin": "middle"})}, timeout=10)
    assert assert_json_error(resp, 422, "origin")["key"] == "origin"
    resp = requests.get(url, params={"params": "{nope"}, timeout=10)
    assert_json_error(resp, 400, "Malformed JSON in ?params=")


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ({"size": "abc"}, "size"),
        ({"size": "1.5"}, "size"),
        ({"size": "-1"}, "size"),
        ({"size": "4097"}, "size"),
        ({"width": "300"}, "height"),
        ({"height": "300"}, "width"),
        ({"width": "0", "height": "10"}, "width"),
        ({"width": "10", "height": "5000"}, "height"),
        ({"size": "100", "width": "100", "height": "100"}, "size"),
        ({"size": "99999999999"}, "size"),  # was "must be a whole number": it is one, out of range
        ({"size": "٣٢"}, "size"),  # Arabic-Indic digits were read as 32
    ],
)
def test_bad_sizes_are_422_naming_the_parameter(url: str, query: dict[str, str], key: str) -> None:
    body = assert_json_error(requests.post(url, params=query, json={}, timeout=10), 422, "")
    assert body["key"] == key


def test_a_body_over_1_mb_is_413(url: str) -> None:
    big = json.dumps({"color": "#ffffff", "pad": "x" * 1_100_000}).encode()
    assert_json_error(requests.post(url, data=big, timeout=30), 413, "too large")


def test_a_malformed_c_string_is_400_naming_the_problem(url: str) -> None:
    body = assert_json_error(
        requests.get(url, params={"parse": "abc!"}, timeout=10), 400, "Malformed c-string"
    )
    assert body["value"] == "abc!"
    truncated = encode(LIGHT)[:-3]
    assert_json_error(requests.get(url, params={"parse": truncated}, timeout=10), 400, "Malformed c-string")


def test_a_lone_surrogate_is_a_422_naming_it_not_a_500(url: str) -> None:
    """The 422 echoes the value, and a lone surrogate cannot be written as UTF-8: it was a bare 500."""
    for body, words in (
        (b'{"geometry": "\\ud800"}', "geometry: unknown option"),
        (b'{"\\ud800": 1}', "unknown key"),
    ):
        resp = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
        assert_json_error(resp, 422, words)


def test_more_layers_than_the_server_draws_is_422_before_any_render(url: str) -> None:
    layer = {"position": {"x": 0.1, "y": 0}, "rotation": 0, "scale": {"x": -1, "y": 1}}
    started = time.perf_counter()
    resp = requests.post(
        url, params={"size": 2048}, json={**LIGHT, "layers": [layer] * (MAX_LAYERS + 1)}, timeout=30
    )
    body = assert_json_error(resp, 422, f"{MAX_LAYERS + 1} layers: this server draws at most {MAX_LAYERS}")
    assert body["key"] == "layers" and time.perf_counter() - started < 5
    at_most = requests.post(
        url, params={"size": 32}, json={**LIGHT, "layers": [layer] * MAX_LAYERS}, timeout=60
    )
    assert at_most.status_code == 200 and len(at_most.headers["X-Encoded-Params"]) < 16_000


def test_a_form_post_is_told_to_send_json(url: str) -> None:
    resp = requests.post(url, data={"geometry": "ring"}, timeout=10)
    assert_json_error(resp, 400, "sent as application/x-www-form-urlencoded: send the JSON object itself")


def test_head_answers_and_a_wrong_method_names_the_right_ones(url: str) -> None:
    head = requests.head(url, params="health", timeout=10)
    assert (
        head.status_code == 200 and head.content == b"" and head.headers["Content-Type"] == "application/json"
    )
    for method in ("PUT", "OPTIONS", "DELETE"):
        resp = requests.request(method, url, timeout=10)
        body = assert_json_error(resp, 405, f"Method {method} not allowed on /api/raster: use")
        assert set(resp.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST"}, body
    missing = requests.get(url.replace("/api/raster", "/api/rasters"), timeout=10)
    assert_json_error(missing, 404, "Not found: /api/rasters (the API answers /api/raster and /render?c=)")


def test_render_with_an_empty_c_string_draws_the_defaults(url: str) -> None:
    """`{}` encodes to the empty c-string (its X-Encoded-Params); /render?c= used to refuse it."""
    page = url.replace("/api/raster", "/render")
    resp = requests.get(page, params={"c": "", "width": 96, "height": 54}, timeout=30)
    assert resp.status_code == 200 and np.array_equal(pixels(resp.content), render({}, 96, 54))
    assert_json_error(requests.get(page, params={"size": 32}, timeout=10), 400, "Missing ?c= param")


# -- the designer's scripts and the library client -------------------------------------------------------


def test_the_plans_generation_snippet_runs_unchanged(url: str, tmp_path: Path) -> None:
    """seed-plan.md Phase 1: requests.post(json=flat, timeout=10) → PNG saved → params saved."""
    images, params_dir = tmp_path / "data/images", tmp_path / "data/params"
    images.mkdir(parents=True)
    params_dir.mkdir(parents=True)
    endpoint = url.replace("127.0.0.1", "localhost")  # the plan's host; only the port differs
    for i, flat in enumerate(sample_params(3, seed=1, mode="weighted")):
        resp = requests.post(endpoint, json=flat, timeout=10)
        with open(images / f"{i:06d}.png", "wb") as f:
            f.write(resp.content)
        with open(params_dir / f"{i:06d}.json", "w") as f:
            json.dump(flat, f)
    for i in range(3):
        saved = json.loads((params_dir / f"{i:06d}.json").read_text())
        img = Image.open(images / f"{i:06d}.png")
        assert (img.format, img.size) == ("PNG", (1024, 1024))
        assert np.array_equal(np.asarray(img.convert("RGB")), render(saved, 1024, 1024))


def test_remote_renderer_gets_the_local_pixels(url: str) -> None:
    base = url.removesuffix("/api/raster")  # RemoteRenderer accepts the base URL as for the original
    remote = RemoteRenderer(base, retries=0, timeout=30)
    try:
        square = remote.render(LIGHT, 1024, 1024)
        local = render(LIGHT, 1024, 1024)
        assert np.array_equal(square, local)
        assert remote.last_encoded == encode(LIGHT)
        wide = remote.render(LIGHT, 512, 288)  # cropped and resized from the 1024² PNG, as for the original
        assert np.array_equal(wide, map_square(Image.fromarray(local), 512, 288))
        assert remote.parse(encode(LIGHT)) == decode(encode(LIGHT))
        assert remote.health()["ok"] is True
    finally:
        remote.close()


# -- concurrency ------------------------------------------------------------------------------------------


def test_parallel_requests_all_succeed_with_their_own_pictures(url: str) -> None:
    scenes = sample_params(8, seed=3, mode="weighted")
    query = {"width": 96, "height": 96}
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda p: requests.post(url, params=query, json=p, timeout=60), scenes))
    assert [r.status_code for r in responses] == [200] * 8
    for params, resp in zip(scenes, responses, strict=True):
        assert resp.headers["X-Encoded-Params"] == encode(params)
        assert np.array_equal(pixels(resp.content), render(params, 96, 96))


def test_health_answers_while_a_slow_render_runs(url: str) -> None:
    done: dict[str, float] = {}

    def slow() -> None:
        requests.post(url, json=HEAVY, timeout=120).raise_for_status()
        done["at"] = time.monotonic()

    thread = threading.Thread(target=slow)
    start = time.monotonic()
    thread.start()
    busy = None
    while time.monotonic() - start < 20 and "at" not in done:
        t0 = time.monotonic()
        health = requests.get(url, params="health", timeout=10).json()
        if health["pool"]["busy"]:
            busy = (time.monotonic() - t0, time.monotonic())
            break
        time.sleep(0.01)
    thread.join()
    assert busy is not None, "never saw the render in flight"
    latency, answered = busy
    assert answered < done["at"]  # health answered before the render finished
    assert latency < 0.5 * (done["at"] - start)


# -- the pool's bounds, a failed render, the CLI ----------------------------------------------------------


@pytest.fixture
def gated() -> Iterator[tuple[str, FastAPI, threading.Event]]:
    """A 2-worker server with 1 waiting place whose renders block until the event is set."""
    app = create_app(workers=2, max_waiting=1, warm=False)
    gate = threading.Event()

    def blocked(*_: Any) -> tuple[bytes, float]:
        gate.wait(20)
        return b"\x89PNG fake", 0.0

    app.state.render_job = blocked
    with serve(app) as endpoint:
        try:
            yield endpoint, app, gate
        finally:
            gate.set()


def test_pool_runs_two_at_once_one_waits_and_the_next_gets_503(
    gated: tuple[str, FastAPI, threading.Event],
) -> None:
    url, _, gate = gated
    with ThreadPoolExecutor(3) as pool:
        running = [pool.submit(requests.post, url, json={}, timeout=30) for _ in range(3)]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pool_stats = requests.get(url, params="health", timeout=5).json()["pool"]
            if (pool_stats["busy"], pool_stats["waiting"]) == (2, 1):
                break
            time.sleep(0.02)
        assert (pool_stats["busy"], pool_stats["waiting"]) == (2, 1)
        refused = requests.post(url, json={}, timeout=10)
        assert_json_error(refused, 503, "Busy")
        assert refused.headers["Retry-After"] == "1"
        gate.set()
        assert [f.result().status_code for f in running] == [200, 200, 200]


def test_a_failed_render_is_500_render_failed_without_a_trace(
    gated: tuple[str, FastAPI, threading.Event],
) -> None:
    url, app, _ = gated

    def broken(*_: Any) -> tuple[bytes, float]:
        raise RuntimeError("secret internal detail")

    app.state.render_job = broken
    resp = requests.post(url, json={}, timeout=10)
    assert resp.status_code == 500
    assert resp.json() == {"error": "Render failed"}
    assert "secret" not in resp.text
    assert requests.get(url, params="health", timeout=5).json()["fails"] == 1


def test_a_bug_outside_rendering_is_a_bare_500(
    gated: tuple[str, FastAPI, threading.Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _, _ = gated

    def broken(*_: Any) -> dict[str, Any]:
        raise KeyError("secret internal detail")

    monkeypatch.setattr("app.api.routes.health_body", broken)
    resp = requests.get(url, params="health", timeout=10)
    assert resp.status_code == 500
    assert resp.json() == {"error": "Internal server error"}
    assert "secret" not in resp.text


def test_cli_serves_on_the_given_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "app.api", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": "."},
    )
    url = f"http://127.0.0.1:{port}/api/raster"
    try:
        health = wait_ready(url, timeout=60)
        assert health["pool"]["workers"] == 1
        resp = requests.post(url, params={"size": 64}, json=LIGHT, timeout=30)
        assert (resp.status_code, resp.headers["Content-Type"]) == (200, "image/jpeg")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal as its exit status
    assert proc.returncode in (0, -signal.SIGTERM), err.decode()[-2000:]
    assert "Application shutdown complete" in err.decode()
