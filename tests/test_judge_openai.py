"""core.judge openai: the HTTP judge against a local server speaking /v1/chat/completions (stdlib only)."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest
from PIL import Image

from core.judge import JudgeContext, JudgeError, JudgeFailure, JudgeUnavailable, create_judge
from core.judge.vlm import RAW_MAX_CHARS

CONTEXT = JudgeContext(references=(np.full((60, 100, 3), 40, np.uint8), np.full((50, 50, 3), 200, np.uint8)))
IMAGE = np.zeros((72, 128, 3), np.uint8)


def _reply(text: str) -> tuple[int, dict[str, Any]]:
    return 200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}


class FakeServer:
    """An OpenAI-compatible server on 127.0.0.1 that answers from a script and records every request."""

    def __init__(self) -> None:
        self.script: list[tuple[int, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.models: list[str] | None = ["qwen2.5vl:3b", "other"]  # None: the listing is a bare []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(abs(status))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data) * (2 if status < 0 else 1)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)  # a negative status: the reply is cut off at half its length

            def do_GET(self) -> None:
                if self.path == "/v1/models":
                    listing = (
                        server.models
                        if server.models is None or isinstance(server.models, dict)
                        else {
                            "object": "list",
                            "data": [{"id": m} for m in server.models],
                        }
                    )
                    self._send(200, [] if listing is None else listing)
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body, "time": time.monotonic()})
                entry = server.script.pop(0) if server.script else (500, {"error": "script empty"})
                if entry[0] == "slow":  # ("slow", status, reply): answers after the judge's timeout
                    time.sleep(1.0)
                    entry = entry[1:]
                status, reply, *headers = entry
                self._send(status, reply, *headers)
                if status < 0:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    yield fake
    fake.close()


def _judge(url: str, **options: Any) -> Any:
    return create_judge(url, backoff=0.0, timeout=5.0, **options)


def test_happy_path_sends_images_as_data_urls_and_parses_the_score(server: FakeServer) -> None:
    server.script = [_reply("SCORE: 8/10 — balanced glow")]
    result = _judge(f"openai:{server.url}#llava").score(IMAGE, CONTEXT)
    assert (result.score, result.rationale) == (8.0, "balanced glow")
    assert result.judge == f"openai:{server.url}#llava"
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["body"]["model"] == "llava"
    content = request["body"]["messages"][0]["content"]
    urls = [part["image_url"]["url"] for part in content if part["type"] == "image_url"]
    assert len(urls) == 3 and all(u.startswith("data:image/png;base64,") for u in urls)
    candidate = np.asarray(Image.open(io.BytesIO(base64.b64decode(urls[-1].split(",", 1)[1]))))
    assert candidate.shape == IMAGE.shape
    assert "SCORE: <number>/10" in content[-1]["text"]


def test_server_errors_are_retried(server: FakeServer) -> None:
    server.script = [(500, {"error": "overloaded"}), (429, {"error": "slow down"}), _reply("6/10 — fine")]
    assert _judge(f"openai:{server.url}#m", http_retries=3).score(IMAGE, CONTEXT).score == 6.0
    assert len(server.requests) == 3


def test_persistent_server_errors_raise_after_the_retries(server: FakeServer) -> None:
    server.script = [(503, {"error": "loading model"})] * 3
    with pytest.raises(JudgeError, match="kept failing after 3 attempts"):
        _judge(f"openai:{server.url}#m", http_retries=2).score(IMAGE, CONTEXT)


def test_garbage_answers_are_retried_then_recorded_as_a_failure(server: FakeServer) -> None:
    server.script = [_reply("A stunning piece!"), (200, "not json at all"), _reply("31")]
    with pytest.raises(JudgeFailure, match="3 attempt") as caught:
        _judge(f"openai:{server.url}#m", retries=2).score(IMAGE, CONTEXT)
    assert caught.value.answers[0] == "A stunning piece!" and caught.value.answers[2] == "31"
    assert len(server.requests) == 3


def test_model_defaults_to_the_servers_first(server: FakeServer) -> None:
    server.script = [_reply("SCORE: 9/10 — crisp")]
    judge = _judge(f"openai:{server.url}/chat/completions")
    assert judge.score(IMAGE, CONTEXT).judge == f"openai:{server.url}#qwen2.5vl:3b"
    assert server.requests[0]["body"]["model"] == "qwen2.5vl:3b"


def test_pairwise(server: FakeServer) -> None:
    server.script = [_reply("PREFER: B — calmer composition")]
    preference = _judge(f"openai:{server.url}#m").compare(IMAGE, IMAGE, CONTEXT)
    assert preference.choice == "incumbent" and preference.rationale == "calmer composition"


def test_prepare_checks_the_server(server: FakeServer) -> None:
    _judge(f"openai:{server.url}#m").prepare()  # reachable: no error, nothing sent to chat
    assert server.requests == []


def test_server_down_says_what_to_start() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    judge = _judge(f"openai:http://127.0.0.1:{port}/v1#m", http_retries=1)
    with pytest.raises(JudgeUnavailable, match="ollama serve"):
        judge.prepare()
    with pytest.raises(JudgeUnavailable) as caught:
        judge.score(IMAGE, CONTEXT)
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "ollama serve" in message and "--judge proxy" in message
    # the reason whole, in words (urllib3's nested repr was cut mid-word), and the app's way too
    assert "(connection refused: nothing listens on that port)" in message and "Judge: proxy" in message


def test_an_unresolvable_host_and_a_malformed_address_are_named() -> None:
    judge = _judge("openai:http://no-such-host.invalid/v1#m", http_retries=0)
    with pytest.raises(JudgeUnavailable, match=r"\(the host name does not resolve\)"):
        judge.prepare()
    with pytest.raises(ValueError, match=r"VLM server address 'http://\[::1/v1' is not an http\(s\) address"):
        _judge("openai:http://[::1/v1#m")  # was a bare "Invalid IPv6 URL"


@pytest.mark.parametrize(
    "reply",
    [
        {"choices": [], "detail": "Rating: 9"},  # was read as 9
        {"choices": [{"text": "SCORE: 7/10"}]},  # a completion, not a chat message: was read as 7
        "<html><body>Rating: 9 stars</body></html>",  # an error page: was read as 9
    ],
)
def test_a_reply_without_a_chat_message_is_a_failure_never_a_score(server: FakeServer, reply: Any) -> None:
    server.script = [(200, reply)] * 3
    with pytest.raises(JudgeFailure, match=r"3 attempt.*no answer in the server's reply") as caught:
        _judge(f"openai:{server.url}#m", retries=2).score(IMAGE, CONTEXT)
    assert all("holds no chat message" in answer for answer in caught.value.answers)


def test_a_reply_cut_off_midway_is_retried(server: FakeServer) -> None:
    """It raised requests' ChunkedEncodingError (no JudgeError): the explore CLI ended in a traceback."""
    server.script = [(-200, _reply("SCORE: 4/10 — cut")[1]), _reply("SCORE: 6/10 — whole")]
    assert _judge(f"openai:{server.url}#m", http_retries=2).score(IMAGE, CONTEXT).score == 6.0
    assert len(server.requests) == 2


def test_retry_after_is_honoured(server: FakeServer) -> None:
    server.script = [(429, {"error": "slow down"}, {"Retry-After": "0.6"}), _reply("SCORE: 5/10 — ok")]
    assert _judge(f"openai:{server.url}#m", http_retries=2).score(IMAGE, CONTEXT).score == 5.0
    first, second = (request["time"] for request in server.requests)
    assert second - first >= 0.55  # the backoff alone is 0 here


def test_a_refused_key_says_where_the_key_goes_and_a_long_answer_is_cut(server: FakeServer) -> None:
    server.script = [(401, {"error": "invalid api key"})]
    with pytest.raises(JudgeError, match=r"HTTP 401 .*\$OPENAI_API_KEY"):
        _judge(f"openai:{server.url}#m").score(IMAGE, CONTEXT)
    server.script = [_reply("SCORE: 7/10 — " + "glow " * 200_000)]  # 1 MB: was stored whole
    judgement = _judge(f"openai:{server.url}#m").score(IMAGE, CONTEXT)
    assert judgement.score == 7.0 and len(judgement.raw) == RAW_MAX_CHARS


def test_a_bare_empty_model_list_says_to_name_a_model(server: FakeServer) -> None:
    server.models = None  # GET /v1/models answers [] (it was an AttributeError)
    with pytest.raises(JudgeUnavailable, match="lists no models; name one"):
        _judge(f"openai:{server.url}").prepare()


def test_a_slow_server_is_asked_twice_not_four_times(server: FakeServer) -> None:
    """A read timeout was resent with every retry: 4 × 120 s before an error, the server only busier."""
    late = ("slow", *_reply("SCORE: 5/10 — late"))
    server.script = [late, late, late, _reply("SCORE: 5/10 — in time")]
    started = time.monotonic()
    with pytest.raises(
        JudgeError, match=r"within 0\.5 s, 2 times: the server is up but slow.*\$BB_VLM_TIMEOUT"
    ):
        create_judge(f"openai:{server.url}#m", backoff=0.0, timeout=0.5, http_retries=3).score(IMAGE, CONTEXT)
    assert len(server.requests) == 2 and time.monotonic() - started < 3
    time.sleep(1.1)  # let the server finish its slow answers before the fixture closes it


def test_the_wait_for_an_answer_is_set_by_bb_vlm_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app and core.explore build judges from a spec, so the variable is how a slow model gets time."""
    url = "openai:http://127.0.0.1:9/v1#m"
    assert create_judge(url).timeout == 120.0
    monkeypatch.setenv("BB_VLM_TIMEOUT", "600")
    assert create_judge(url).timeout == 600.0 and create_judge(url, timeout=5).timeout == 5.0
    for bad in ("soon", "0", "-3"):
        monkeypatch.setenv("BB_VLM_TIMEOUT", bad)
        with pytest.raises(ValueError, match=r"BB_VLM_TIMEOUT must be a number|timeout must be a number"):
            create_judge(url)
