"""An API reference at `/docs` that works offline.

FastAPI's Swagger UI (`/docs`) and ReDoc (`/redoc`) load their JavaScript and CSS from cdn.jsdelivr.net, so
on the offline machines this tool runs on they are blank pages. This page is plain HTML with inline CSS,
built from the app's own `app.openapi()`: no script, no external asset, nothing to fetch.
"""

from __future__ import annotations

import json
import re
import shlex
from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

METHODS = ("get", "head", "post", "put", "patch", "delete", "options", "trace")
# The page needs nothing but its own inline CSS; the policy makes a browser enforce that.
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
CSS = """
body{font:15px/1.5 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1b1f23}
code,pre{font:13px/1.45 ui-monospace,Menlo,Consolas,monospace}
pre{background:#f5f7f9;border:1px solid #d8dee4;border-radius:4px;padding:.6rem;overflow-x:auto}
.desc{white-space:pre-wrap}
section{border-top:1px solid #d8dee4;margin-top:1.5rem}
.method{display:inline-block;min-width:4.5rem;font:bold 13px ui-monospace,monospace;text-transform:uppercase}
table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{border:1px solid #d8dee4;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f7f9}
.muted{color:#57606a}
"""


def install_offline_docs(app: FastAPI) -> FastAPI:
    """Serve the offline reference at `/docs` and redirect `/redoc` there (307, for old bookmarks).

    FastAPI's CDN pages are dropped if `app` was built with them, so the offline page is what `/docs`
    answers whichever way the app was made. `/openapi.json` is left as it is. Returns `app`.
    """
    cdn_paths = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url if app.docs_url else None}
    cdn_paths.discard(None)  # routes without a path (an included router, a mount) stay
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) not in cdn_paths]
    app.docs_url = app.redoc_url = None

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    async def offline_docs(request: Request) -> HTMLResponse:
        page = docs_html(app.openapi(), str(request.base_url), app.openapi_url)
        return HTMLResponse(page, headers={"Content-Security-Policy": CSP})

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> RedirectResponse:
        return RedirectResponse(request.scope.get("root_path", "") + "/docs", status_code=307)

    return app


def docs_html(spec: dict[str, Any], base_url: str, openapi_url: str | None = "/openapi.json") -> str:
    """The reference page for the OpenAPI document `spec`, with curl examples against `base_url`.

    Every string from the spec or the request is escaped; links are same-origin paths only.
    """
    info = spec.get("info", {})
    title = f"{info.get('title', 'API')} {info.get('version', '')}".strip()
    ops = list(_operations(spec))
    toc = "".join(
        f'<li><a href="#{_anchor(m, p)}"><span class="method">{_e(m)}</span><code>{_e(p)}</code></a> '
        f"{_e(op.get('summary', ''))}</li>"
        for p, m, op in ops
    )
    schema_link = ""
    if openapi_url:
        href = urlsplit(base_url).path.rstrip("/") + openapi_url
        link = f'<a href="{_e(href)}"><code>{_e(openapi_url)}</code></a>'
        schema_link = f"<p>Machine-readable schema: {link}</p>"
    body = "".join(_operation_html(spec, p, m, op, base_url) for p, m, op in ops)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)} — API reference</title><style>{CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>{_para(info.get('description'))}{schema_link}"
        f"<h2>Operations</h2><ul>{toc or '<li>none</li>'}</ul>{body}</body></html>"
    )


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) in schema path order, methods in a fixed order; path-level parameters
    merged into each operation's (the operation's win)."""
    out = []
    for path, item in spec.get("paths", {}).items():
        item = _resolve(spec, item)
        shared = [_resolve(spec, p) for p in item.get("parameters", [])]
        for method in METHODS:
            if method not in item:
                continue
            op = dict(item[method])
            own = [_resolve(spec, p) for p in op.get("parameters", [])]
            keys = {(p.get("name"), p.get("in")) for p in own}
            op["parameters"] = [p for p in shared if (p.get("name"), p.get("in")) not in keys] + own
            out.append((path, method, op))
    return out


def _operation_html(spec: dict[str, Any], path: str, method: str, op: dict[str, Any], base_url: str) -> str:
    head = f'<span class="method">{_e(method)}</span><code>{_e(path)}</code>'
    parts = [f'<section id="{_anchor(method, path)}"><h2>{head}</h2>']
    if op.get("summary"):
        parts.append(f"<p><strong>{_e(op['summary'])}</strong></p>")
    if op.get("deprecated"):
        parts.append("<p><strong>Deprecated.</strong></p>")
    parts.append(_para(op.get("description")))
    parts.append(_parameters_html(spec, op["parameters"]))
    parts.append(_body_html(spec, op.get("requestBody")))
    parts.append(_responses_html(spec, op.get("responses", {})))
    parts.append(f"<h3>Example</h3><pre><code>{_e(_curl(spec, path, method, op, base_url))}</code></pre>")
    return "".join(parts) + "</section>"


def _parameters_html(spec: dict[str, Any], params: list[dict[str, Any]]) -> str:
    if not params:
        return '<h3>Parameters</h3><p class="muted">None declared in the schema.</p>'
    rows = []
    for p in params:
        schema = _resolve(spec, p.get("schema", {}))
        default = _e(json.dumps(schema["default"])) if "default" in schema else "—"
        rows.append(
            f"<tr><td><code>{_e(p.get('name', ''))}</code></td><td>{_e(p.get('in', ''))}</td>"
            f"<td>{_e(_type(spec, schema))}</td><td>{'yes' if p.get('required') else 'no'}</td>"
            f"<td><code>{default}</code></td>"
            f'<td class="desc">{_e(p.get("description") or schema.get("description") or "")}</td></tr>'
        )
    heads = ("Name", "In", "Type", "Required", "Default", "Description")
    return "<h3>Parameters</h3>" + _table(heads, rows)


def _body_html(spec: dict[str, Any], body: dict[str, Any] | None) -> str:
    if not body:
        return ""
    body = _resolve(spec, body)
    items = "".join(
        f"<li><code>{_e(media)}</code>: {_e(_type(spec, content.get('schema', {})))}</li>"
        for media, content in body.get("content", {}).items()
    )
    required = " (required)" if body.get("required") else " (optional)"
    return f"<h3>Request body{required}</h3>{_para(body.get('description'))}<ul>{items}</ul>"


def _responses_html(spec: dict[str, Any], responses: dict[str, Any]) -> str:
    if not responses:
        return ""
    rows = []
    for status, response in responses.items():
        response = _resolve(spec, response)
        media = ", ".join(response.get("content", {})) or "—"
        text = _e(response.get("description", ""))
        rows.append(
            f'<tr><td><code>{_e(status)}</code></td><td class="desc">{text}</td>'
            f"<td><code>{_e(media)}</code></td></tr>"
        )
    return "<h3>Responses</h3>" + _table(("Status", "Description", "Media types"), rows)


def _curl(spec: dict[str, Any], path: str, method: str, op: dict[str, Any], base_url: str) -> str:
    """A runnable curl line: required query parameters filled with their example, default or a placeholder,
    path parameters as placeholders, and a body of the first declared content type."""
    params = op["parameters"]
    for p in params:
        if p.get("in") == "path":
            path = path.replace("{" + p["name"] + "}", f"<{p['name']}>")
    reads_query = method in ("get", "head")  # a GET needs one optional query: the one with an example
    query = {
        p["name"]: _sample(spec, p)
        for p in params
        if p.get("in") == "query" and (p.get("required") or (reads_query and "example" in p))
    }
    url = base_url.rstrip("/") + path + ("?" + urlencode(query, safe="<>") if query else "")
    words = ["curl", "-I" if method == "head" else ""]
    if method not in ("get", "head"):
        words += ["-X", method.upper()]
    content = _resolve(spec, op.get("requestBody") or {}).get("content", {})
    if content:
        media = next(iter(content))
        data = "{}" if "json" in media else "@body"
        words += ["-H", shlex.quote(f"Content-Type: {media}"), "--data-binary", shlex.quote(data)]
    words.append(shlex.quote(url))
    return " ".join(w for w in words if w)


def _sample(spec: dict[str, Any], param: dict[str, Any]) -> str:
    schema = _resolve(spec, param.get("schema", {}))
    for value in (param.get("example"), schema.get("example"), schema.get("default")):
        if value is not None:
            return str(value)
    return f"<{param['name']}>"


def _type(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    """A short type name for a JSON schema: `integer`, `string | null`, `array of Item`, `enum: a, b`."""
    schema = schema or {}
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            sep = " & " if key == "allOf" else " | "
            return sep.join(_type(spec, s) for s in schema[key])
    if "enum" in schema:
        return "enum: " + ", ".join(map(str, schema["enum"]))
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = " | ".join(kind)
    if kind == "array":
        return f"array of {_type(spec, schema.get('items', {}))}"
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _resolve(spec: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    """`obj`, or what its local `$ref` (`#/components/...`) points to."""
    ref = obj.get("$ref") if isinstance(obj, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#/") or len(obj) > 1:
        return obj
    target: Any = spec
    for key in ref[2:].split("/"):
        target = target.get(key.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
    return target if isinstance(target, dict) and target else obj


def _table(heads: tuple[str, ...], rows: list[str]) -> str:
    head = "".join(f"<th>{h}</th>" for h in heads)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _anchor(method: str, path: str) -> str:
    return _e(re.sub(r"[^a-z0-9]+", "-", f"{method} {path}".lower()).strip("-"))


def _para(text: str | None) -> str:
    return f'<p class="desc">{_e(text)}</p>' if text else ""


def _e(value: object) -> str:
    return escape(str(value), quote=True)
