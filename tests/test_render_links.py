"""Links that open a match in the designer's bb-particles (core.render.links)."""

from __future__ import annotations

import http.server
import threading

import numpy as np
import pytest

from core.params import decode, sample_params
from core.render import render
from core.render.links import answering, original_links, site_root


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("http://localhost:3000", "http://localhost:3000"),
        ("localhost:3000/", "http://localhost:3000"),
        ("https://studio.example/bb/api/raster", "https://studio.example/bb"),
        ("  ", "http://localhost:3000"),
    ],
)
def test_site_root_takes_the_root_or_the_endpoint(given: str, root: str) -> None:
    assert site_root(given) == root


@pytest.mark.parametrize("bad", ["ftp://host", "http://", "file:///tmp/x"])
def test_site_root_rejects_what_is_not_an_http_address(bad: str) -> None:
    with pytest.raises(ValueError, match="http\\(s\\) address"):
        site_root(bad)


def test_the_link_draws_what_the_twin_draws() -> None:
    """Layers and effects included: the c-string carries every key the match has, quantised as the
    original quantises URL values, so decoding it renders the same pixels."""
    for params in sample_params(4, seed=7, mode="weighted", n_layers=2) + sample_params(2, seed=8):
        links = original_links(params, "http://localhost:3000/api/raster")
        assert links.editor == f"http://localhost:3000/?c={links.cstring}"
        assert links.render == f"http://localhost:3000/render?c={links.cstring}"
        assert np.array_equal(render(decode(links.cstring), 96, 54), render(params, 96, 54))


def test_out_of_range_params_are_clamped_as_the_original_clamps() -> None:
    links = original_links({"geometry": "ring", "repetitions": 524})
    assert decode(links.cstring)["Scalars.repetitions"] == {"value": 500}


def test_answering_tells_a_running_server_from_none() -> None:
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        assert answering(f"127.0.0.1:{port}/api/raster")  # any status counts: 501 here
        server.shutdown()
    assert not answering(f"http://127.0.0.1:{port}")  # closed now: refused at once
    assert not answering("ftp://127.0.0.1")  # not an address it can ask
