"""One check for the http(s) addresses a user types (the original's address, a renderer, a VLM server).

Why: "not a url" and "javascript:alert(1)" used to pass, as `http://not a url` and `http://javascript:…`
once the scheme was added, and failed only when first used (an exploration, a link that opens nothing).
"""

from __future__ import annotations

from urllib.parse import urlsplit


def http_url(url: str, what: str, example: str) -> str:
    """`url` stripped, with `http://` added when it names no scheme; ValueError naming `what` and an
    `example` unless it is an http(s) address with a host (no spaces) and a valid port."""
    text = url.strip()
    full = text if "://" in text else f"http://{text}"
    problem = None
    try:
        parts = urlsplit(full)
    except ValueError as exc:  # "http://[::1/v1": the bare "Invalid IPv6 URL" named neither field nor fix
        raise ValueError(
            f"{what} {url!r} is not an http(s) address ({exc}): use one such as {example}"
        ) from None
    if parts.scheme not in ("http", "https"):
        problem = f"{parts.scheme}: is not http(s)"
    elif not parts.hostname or any(c.isspace() for c in full):
        problem = "it names no host" if not parts.hostname else "it has spaces"
    else:
        try:
            parts.port  # noqa: B018 (raises for a port that is not a number in 0…65535)
        except ValueError:
            problem = "its port is not a number from 0 to 65535"
    if problem:
        raise ValueError(f"{what} {url!r} is not an http(s) address ({problem}): use one such as {example}")
    return full
