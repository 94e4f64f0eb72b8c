"""The HTTP API: the original bb-particles `/api/raster` contract (renderer-spec §8), served by the twin.

    python -m app.api --host 127.0.0.1 --port 3000 [--workers N] [--pool thread|process]

Contract (the original's, so the designer's `requests.post("http://localhost:3000/api/raster", json=params)`
scripts run unchanged):

* `POST /api/raster[?size=S]` with a JSON object body, flat, Leva-prefixed or `{value, disabled}`-wrapped;
  `{}` renders the defaults. S absent, 0 or 1024…4096 → 1024×1024 PNG; 0 < S < 1024 → S×S JPEG, quality 80.
  Headers `Cache-Control: no-store` and `X-Encoded-Params: <c-string>` (`core.params.encode` of the body;
  `/render?c=` of the original reproduces the image).
* `GET /api/raster?params=<url-encoded JSON>[&size=S]`: the same as POST.
* `GET /api/raster?parse=<c-string>` → `{key: {value[, disabled]}}`.
* `GET /api/raster?health` → `{ok, version, uptime_s, renders, fails, recycling, pool: {kind, workers, busy,
  waiting, max_waiting, ready}, limits}`.
* `GET` with none of these → 400 `{"error": "Missing ?params= or ?parse= param"}`. A GET is read in the order
  health, parse, params.

Extension: `?width=W&height=H` (1…4096 each, together, not with `?size=`) renders W×H as PNG, e.g. the
1652×919 of a Figma export. The camera always shows 5 world units across, so the aspect only changes how
much is visible vertically. Every size is rendered directly at that size (the original renders 1024² and
scales down for `?size=`), so pixel-scale effects (noise grain, CRT mask) are drawn at the output's scale.

Deviations, all answering with a JSON body `{"error": message, ...}` and never a stack trace:

* malformed JSON (body or `?params=`) or an empty body → 400 naming the problem and its position (the
  original answers a bare 500); a JSON value that is not an object → 422;
* invalid values (unknown keys or options, wrong types, null, NaN/inf, numbers the c-string codec would
  corrupt) → 422 with `key`, `value` and `allowed` (the original drops or corrupts them silently).
  Out-of-range numbers are clamped to the UI bounds, as the original does, never rejected;
* a malformed `?parse=` c-string → 400 naming the problem (the original answers `{}`, indistinguishable from
  an empty scene);
* `?size=`/`?width=`/`?height=` not a whole number or outside their range (above 4096) → 422; a body over
  1 MB → 413; more than 32 layers → 422 (each layer redraws every instance: the server's own limit);
* HEAD answers as GET without the body; another method → 405 naming GET, HEAD and POST; an unknown path
  under the API's → 404; both as `{"error": …}`;
* every worker busy and 64 requests already waiting → 503 with `Retry-After: 1` (clients retry, as they do
  when the original recycles); a failed render → 500 `{"error": "Render failed"}`.
"""

from app.api.app import create_app

__all__ = ["create_app"]
