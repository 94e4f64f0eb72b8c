"""The offline API reference at /docs: self-contained HTML from the app's OpenAPI schema (FastAPI's own
Swagger UI and ReDoc load from a CDN and are blank on an offline machine); /redoc redirects to it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from app.api import create_app
from app.api.docs_page import docs_html, install_offline_docs

BASE = "http://api.example:3000"


class Refs(HTMLParser):
    """The tags and the URL-bearing attribute values of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "srcset", "action", "data", "poster")]


def refs(page: str) -> Refs:
    parser = Refs()
    parser.feed(page)
    return parser


def tiny_app(title: str = "tiny", summary: str = "Find things") -> FastAPI:
    """An app with typed, required, defaulted and described query parameters and a JSON body."""
    app = FastAPI(title=title, description=f"About {title}", docs_url=None, redoc_url=None)

    @app.get("/things/{thing_id}", summary=summary)
    def things(
        thing_id: int,
        colour: str = Query(..., description="the colour to match"),
        limit: int = Query(10, description="at most this many"),
    ) -> dict[str, int]:
        return {"thing_id": thing_id, "limit": limit}

    @app.post("/things")
    def add(thing: dict[str, int]) -> dict[str, int]:
        return thing

    return install_offline_docs(app)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    yield TestClient(create_app(warm=False), base_url=BASE)


def test_docs_is_an_html_page(client: TestClient) -> None:
    reply = client.get("/docs")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert reply.text.lstrip().lower().startswith("<!doctype html>")


def test_docs_loads_nothing_from_another_host(client: TestClient) -> None:
    """No script at all and no src/href off this page's own origin, so it renders with no network."""
    page = refs(client.get("/docs").text)
    assert "script" not in page.tags and "link" not in page.tags
    assert page.urls, "the page links its own /openapi.json and its sections"
    assert not [u for u in page.urls if re.match(r"\s*(https?:)?//", u, re.I)]


def test_docs_names_every_operation_and_query_parameter(client: TestClient) -> None:
    page = client.get("/docs").text
    schema = client.get("/openapi.json").json()
    assert "/api/raster" in schema["paths"]
    declared = {p["name"] for p in schema["paths"]["/api/raster"]["get"]["parameters"]}
    assert {"params", "parse", "health", "size", "width", "height"} <= declared  # read by hand
    assert "c" in {p["name"] for p in schema["paths"]["/render"]["get"]["parameters"]}
    raster = schema["paths"]["/api/raster"]
    assert "requestBody" in raster["post"] and "requestBody" not in raster["get"]  # a GET carries no body
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)) and "head_api_raster" in ids  # one route, one id per method
    for path, item in schema["paths"].items():
        for method, op in item.items():
            assert f'id="{method}-{path.strip("/").replace("/", "-")}"' in page
            assert f"<code>{path}</code>" in page
            for param in op.get("parameters", []):
                if param["in"] == "query":
                    assert f"<code>{param['name']}</code>" in page, (method, path, param["name"])


def test_docs_curl_examples_use_the_requests_base_url(client: TestClient) -> None:
    page = client.get("/docs").text
    example = "?params=%7B%22geometry%22%3A%22ring%22%2C%22repetitions%22%3A80%7D"
    assert f"curl &#x27;{BASE}/api/raster{example}&#x27;</code>" in page  # a bare GET answered 400
    assert f"curl -I &#x27;{BASE}/api/raster{example}&#x27;</code>" in page
    answer = client.get(f"/api/raster{example}&size=64")  # the example's query renders
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    post = "curl -X POST -H &#x27;Content-Type: application/json&#x27; --data-binary &#x27;{}&#x27;"
    assert f"{post} {BASE}/api/raster</code>" in page  # the body goes with the POST only


def test_a_parameters_name_type_requirement_default_and_description_are_shown() -> None:
    page = TestClient(tiny_app()).get("/docs").text
    rows = re.findall(r"<tr>(.*?)</tr>", page)
    colour = next(r for r in rows if "<code>colour</code>" in r)
    limit = next(r for r in rows if "<code>limit</code>" in r)
    assert re.findall(r"<td[^>]*>(.*?)</td>", colour) == [
        "<code>colour</code>", "query", "string", "yes", "<code>—</code>", "the colour to match"
    ]  # fmt: skip
    assert re.findall(r"<td[^>]*>(.*?)</td>", limit) == [
        "<code>limit</code>", "query", "integer", "no", "<code>10</code>", "at most this many"
    ]  # fmt: skip
    assert "<code>thing_id</code></td><td>path</td>" in page
    assert "<h3>Request body (required)</h3><ul><li><code>application/json</code>" in page
    assert '<td><code>422</code></td><td class="desc">Validation Error</td><td><code>application/json' in page
    assert "curl &#x27;http://testserver/things/&lt;thing_id&gt;?colour=&lt;colour&gt;&#x27;" in page
    assert "curl -X POST -H &#x27;Content-Type: application/json&#x27; --data-binary &#x27;{}&#x27;" in page


def test_everything_from_the_schema_and_the_request_is_escaped() -> None:
    evil = "<script>alert(1)</script>"
    spec = tiny_app(title=evil, summary=f"<img src=x onerror=alert(2)>{evil}").openapi()
    page = docs_html(spec, 'http://h"><script>alert(3)</script>/')
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "alert(3)" in page  # the base URL is shown (in the curl examples), escaped


def test_redoc_redirects_to_docs(client: TestClient) -> None:
    reply = client.get("/redoc", follow_redirects=False)
    assert reply.status_code == 307
    assert reply.headers["location"] == "/docs"


def test_openapi_json_is_still_served(client: TestClient) -> None:
    reply = client.get("/openapi.json")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    schema = reply.json()
    assert schema["info"]["title"] == "bb-match /api/raster"
    assert "/api/raster" in schema["paths"] and "/docs" not in schema["paths"]


def test_fastapis_cdn_pages_are_replaced_on_an_app_built_with_them() -> None:
    client = TestClient(install_offline_docs(FastAPI(title="defaults")))
    assert "swagger" not in client.get("/docs").text.lower()
    assert client.get("/docs/oauth2-redirect").status_code == 404
    assert client.get("/redoc", follow_redirects=False).status_code == 307


@pytest.mark.parametrize("api", [True, False])
def test_the_apps_server_serves_the_offline_docs(tmp_path: Path, api: bool) -> None:
    from app.ui.server import create_server

    with TestClient(create_server(str(tmp_path), api=api, warm=False)) as client:
        reply = client.get("/docs")
        assert reply.status_code == 200 and "swagger" not in reply.text.lower()
        assert not [u for u in refs(reply.text).urls if re.match(r"\s*(https?:)?//", u, re.I)]
        assert ("/api/raster" in reply.text) is api
        assert client.get("/redoc", follow_redirects=False).headers["location"] == "/docs"
