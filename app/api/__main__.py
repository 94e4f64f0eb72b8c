"""CLI: python -m app.api [--host 127.0.0.1] [--port 3000] [--workers N] [--pool thread|process]"""

from __future__ import annotations

import argparse

import uvicorn

from app.api.app import create_app
from app.api.inputs import SERVER_OPTIONS
from app.api.pool import KINDS, default_workers
from core.argtypes import count, port, positive_int
from core.helptext import DefaultsHelpFormatter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.api",
        description="Serve the bb-particles /api/raster contract with the twin.",
        formatter_class=DefaultsHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port, default=3000, help="port (default 3000, the original's)")
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help=f"renders at once, in one server process (default: usable cores, here {default_workers()})",
    )
    parser.add_argument("--pool", choices=KINDS, default="thread", help="worker kind (default thread)")
    parser.add_argument(
        "--max-waiting", type=count, default=64, help="requests that may wait for a worker before 503 (64)"
    )
    levels = ["critical", "error", "warning", "info", "debug"]
    parser.add_argument("--log-level", default="info", choices=levels)
    parser.add_argument("--no-access-log", action="store_true", help="do not log every request")
    args = parser.parse_args(argv)
    app = create_app(workers=args.workers, pool=args.pool, max_waiting=args.max_waiting)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=not args.no_access_log,
        **SERVER_OPTIONS,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
