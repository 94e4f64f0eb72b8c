"""Links that open params in the designer's own bb-particles: the end of a match is a scene in their app.

The original reads its scene from the URL: `/render?c=<c-string>` draws it as `/api/raster` does, and
`/render` mounts the same page as `/`, which shows the controls (renderer-spec §0, §8). So the c-string
(core.params.codec) of a match, appended to the app's address, opens that match; the same string on `/`
opens it with the Leva panel, ready to edit. The twin draws `layers: []` as the original does with no
layer keys (one mirrored default layer, spec §2.4), so the link draws what the match showed. The twin's
own API (`python -m app.api`, and the app) answers `/render?c=` with the image, so the render link also
works against it; it has no page with controls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from core.params import encode, validate
from core.render.remote import API_PATH, DEFAULT_URL, normalize_url
from core.urls import http_url


@dataclass(frozen=True)
class OriginalLinks:
    """The c-string of a scene and the two addresses of the original that open it."""

    cstring: str
    editor: str  # the page with its controls
    render: str  # the render alone, as /api/raster draws it


def site_root(url: str = DEFAULT_URL) -> str:
    """The original's address from its root or its /api/raster endpoint (`localhost:3000` is read as
    http); a clear ValueError for anything that is not an http(s) address."""
    endpoint = normalize_url(http_url(url.strip() or DEFAULT_URL, "bb-particles address", DEFAULT_URL))
    return endpoint[: -len(API_PATH)]


def answering(url: str = DEFAULT_URL, timeout: float = 0.5) -> bool:
    """Whether anything answers HTTP at the original's address now (any status counts: the page is the
    designer's app, not an API with a health route). Loopback refuses at once when nothing listens."""
    try:
        requests.head(site_root(url), timeout=timeout, allow_redirects=False)
    except (requests.RequestException, ValueError):
        return False
    return True


def original_links(params: Mapping[str, Any], url: str = DEFAULT_URL) -> OriginalLinks:
    """The links of `params` (any form the API takes) on the original at `url`; params are validated
    first (clamped as the original clamps), so the link draws what the twin drew."""
    cstring = encode(validate(params))
    root = site_root(url)
    return OriginalLinks(cstring, f"{root}/?c={cstring}", f"{root}/render?c={cstring}")
