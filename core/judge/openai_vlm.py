"""A VLM behind an OpenAI-compatible `/v1/chat/completions` endpoint (Ollama, vLLM, LM Studio, llama.cpp).

Spec: `openai:BASE_URL[#MODEL]`, e.g. `openai:http://localhost:11434/v1#qwen2.5vl` (Ollama). BASE_URL may
end in /v1, in /v1/chat/completions, or be the bare server. Without #MODEL the server's first listed model
is used. Images go as base64 PNG data URLs. Connection errors, 429 and 5xx are retried with exponential
backoff; when the server stays unreachable the error says what to start. An API key, when a server wants
one, comes from $OPENAI_API_KEY.
"""

from __future__ import annotations

import base64
import io
import math
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import requests
from PIL import Image

from core.urls import http_url

from .base import JudgeError, JudgeUnavailable
from .prompt import Part
from .vlm import RAW_MAX_CHARS, NoAnswer, VLMJudge

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
START_HINT = (
    "start an OpenAI-compatible server with a vision model first, e.g. `ollama serve` then "
    "`ollama pull qwen2.5vl` (spec openai:http://localhost:11434/v1#qwen2.5vl), "
    "`vllm serve Qwen/Qwen2-VL-2B-Instruct` (openai:http://localhost:8000/v1), or LM Studio's local server "
    "(openai:http://localhost:1234/v1) — or use the proxy judge, which needs no server (--judge proxy; "
    "in the app, Judge: proxy)"
)


AUTH_HINT = " (a server that asks for a key reads it from $OPENAI_API_KEY, sent as a Bearer token)"
MAX_READ_TIMEOUTS = 2
"""Read timeouts before giving up: one more ask helps a server whose first answer loads the model; more
only queued the same slow request again (4 × 120 s, ≈ 8 minutes, before an error)."""
MAX_RETRY_AFTER_S = 30.0
"""Longest wait a 429's or 503's Retry-After is honoured for; beyond it the usual backoff applies."""


TIMEOUT_ENV = "BB_VLM_TIMEOUT"
DEFAULT_TIMEOUT_S = 120.0


def _timeout(given: float | None) -> float:
    """Seconds to wait for an answer: `given`, else $BB_VLM_TIMEOUT, else DEFAULT_TIMEOUT_S. The variable is
    how the app and `core.explore` reach it (a big local model's first answer may take minutes)."""
    text = os.environ.get(TIMEOUT_ENV, "") if given is None else str(given)
    try:
        value = float(text) if text.strip() else DEFAULT_TIMEOUT_S
    except ValueError:
        raise ValueError(f"${TIMEOUT_ENV} must be a number of seconds, got {text!r}") from None
    if not 0 < value < math.inf:
        raise ValueError(f"the VLM judge's timeout must be a number of seconds > 0, got {text!r}")
    return value


def _nothing_listens(exc: requests.RequestException) -> bool:
    """Whether the request never reached a server (refused, unresolvable, no answer to connect): the hint
    then says what to start. A read timeout, a cut reply or a dropped connection mean a server is there."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = str(exc)
    return isinstance(exc, requests.ConnectionError) and any(
        sign in text for sign in ("NewConnectionError", "Connection refused", "Failed to resolve")
    )


def _why_unreachable(exc: requests.RequestException, timeout: float) -> str:
    """The reason a connection failed, in a few words: urllib3's whole message is a nested repr that used
    to be cut off mid-word at 200 characters, before its reason."""
    text = str(exc)
    if isinstance(exc, requests.ConnectTimeout):
        return f"no answer to connect within {timeout:g} s"
    if "Connection refused" in text:
        return "connection refused: nothing listens on that port"
    if "Failed to resolve" in text:
        return "the host name does not resolve"
    return type(exc).__name__


def _retry_after(response: requests.Response) -> float:
    """The seconds a Retry-After header asks for (0 when absent, a date, or past MAX_RETRY_AFTER_S)."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return 0.0
    return seconds if 0 < seconds <= MAX_RETRY_AFTER_S else 0.0


class OpenAIJudge(VLMJudge):
    """A VLM judge over HTTP. Options besides VLMJudge's: `model`, `timeout` (s per request),
    `http_retries` (transport retries), `backoff` (s, doubled per retry), `max_tokens`, `api_key`."""

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        timeout: float | None = None,
        http_retries: int = 3,
        backoff: float = 1.0,
        max_tokens: int = 64,
        api_key: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.endpoint, self.api_root = _endpoints(base_url)
        self.model = model
        self.timeout = _timeout(timeout)
        self.http_retries = http_retries
        self.backoff = backoff
        self.max_tokens = max_tokens
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.name = f"openai:{self.api_root}#{model}" if model else f"openai:{self.api_root}"
        self._session = requests.Session()

    @classmethod
    def from_spec(cls, arg: str, **options: Any) -> OpenAIJudge:
        if not arg:
            raise ValueError("the openai judge needs a URL: openai:http://HOST:PORT/v1[#model]")
        url, _, model = arg.partition("#")
        return cls(url, model or options.pop("model", None), **options)

    def prepare(self, context: Any = None) -> None:
        """Fail now if the server is unreachable (or lists no model when none was named)."""
        if self.model is None:
            self._model_name()
            return
        try:
            self._request("GET", f"{self.api_root}/models")
        except JudgeUnavailable:
            raise
        except JudgeError:
            pass  # reachable; some servers just do not list models

    def answering(self, timeout: float = 0.5) -> bool:
        """Whether the server answers HTTP now (any status counts), without the retries of `prepare`: for
        a settings page that says so at once, where a run would wait seconds to find it down."""
        try:
            self._session.get(f"{self.api_root}/models", timeout=timeout)
        except requests.RequestException:
            return False
        return True

    # -- protocol ------------------------------------------------------------------------------------------

    def _ask(self, parts: Sequence[Part]) -> str:
        body = {
            "model": self._model_name(),
            "messages": [{"role": "user", "content": [_content(part) for part in parts]}],
            "temperature": 0,
            "max_tokens": self.max_tokens,
        }
        reply = self._request("POST", self.endpoint, json=body)
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            # no answer to parse: its text ("Rating: 9" in an error page) used to be read as a score
            raise NoAnswer(
                f"the server's reply holds no chat message: {str(reply)[:RAW_MAX_CHARS]}"
            ) from None
        if isinstance(content, list):  # some servers return content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return str(content or "").strip()

    def _model_name(self) -> str:
        if self.model:
            return self.model
        listing = self._request("GET", f"{self.api_root}/models")
        entries = listing.get("data", []) if isinstance(listing, dict) else []  # a bare [] was AttributeError
        models = [m.get("id") for m in entries if isinstance(m, dict) and m.get("id")]
        if not models:
            raise JudgeUnavailable(f"{self.api_root} lists no models; name one: openai:{self.api_root}#MODEL")
        self.model = models[0]
        self.name = f"openai:{self.api_root}#{self.model}"
        return self.model

    def _request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        problem, unreachable = "", False
        wait = 0.0
        slow = 0
        for attempt in range(self.http_retries + 1):
            if attempt:
                time.sleep(max(wait, self.backoff * 2 ** (attempt - 1)))
            wait = 0.0
            try:
                response = self._session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
            except requests.RequestException as exc:  # also a reply cut off mid-body (ChunkedEncodingError)
                unreachable = _nothing_listens(exc)
                problem = (
                    _why_unreachable(exc, self.timeout) if unreachable else f"{type(exc).__name__}: {exc}"
                )
                slow += isinstance(exc, requests.ReadTimeout)
                if slow >= MAX_READ_TIMEOUTS:  # asked again, a server that is up but slow only gets busier
                    raise JudgeError(
                        f"{self.name}: no answer from {url} within {self.timeout:g} s, {slow} times: the "
                        f"server is up but slow (a large model, a busy GPU); a smaller model, or a longer "
                        f"wait (${TIMEOUT_ENV}, in seconds), may help"
                    ) from None
                continue
            if response.status_code in RETRY_STATUS:
                problem, unreachable = f"HTTP {response.status_code}: {response.text[:200]}", False
                wait = _retry_after(response)
                continue
            if response.status_code >= 400:
                hint = AUTH_HINT if response.status_code in (401, 403) else ""
                raise JudgeError(
                    f"{self.name}: HTTP {response.status_code} from {url}: {response.text[:300]}{hint}"
                )
            try:
                return response.json()
            except ValueError:
                return {"error": f"not JSON: {response.text[:200]}"}
        if unreachable:
            raise JudgeUnavailable(
                f"{self.name}: cannot reach {url} after {self.http_retries + 1} attempts ({problem}); "
                + START_HINT
            )
        raise JudgeError(
            f"{self.name}: {url} kept failing after {self.http_retries + 1} attempts ({problem})"
        )


def _endpoints(base_url: str) -> tuple[str, str]:
    """(chat completions URL, API root ending in /v1) from any of the accepted base URL forms."""
    if not base_url.strip().startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {base_url!r} (expected e.g. http://localhost:11434/v1)")
    url = http_url(base_url, "VLM server address", "http://localhost:11434/v1").rstrip("/")
    if url.endswith("/chat/completions"):
        url = url[: -len("/chat/completions")]
    if not url.endswith("/v1"):
        url += "/v1"
    return f"{url}/chat/completions", url


def _content(part: Part) -> dict[str, Any]:
    if isinstance(part, str):
        return {"type": "text", "text": part}
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(part)).save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}
