"""`python -m app [--host 127.0.0.1] [--port 7860] [--data-dir DIR]`: the bb-match app in the browser.

One process serves the Gradio UI at `/` and the original's `/api/raster` contract beside it. Defaults need
no server and no download: the local renderer twin, models/inverse.pt when present, SQLite in ./data (or
$BB_DATA_DIR), the offline proxy judge. Settings persist in DIR/settings.json.
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from core.argtypes import port
from core.helptext import DefaultsHelpFormatter
from core.paths import writable_folder
from core.store import default_data_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app", description=__doc__.splitlines()[0], formatter_class=DefaultsHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port, default=7860, help="port (default 7860)")
    parser.add_argument(
        "--data-dir",
        default=str(default_data_dir()),
        help="launch data directory: settings.json and, unless Settings says otherwise, the store "
        "(default $BB_DATA_DIR or ./data)",
    )
    parser.add_argument("--no-api", action="store_true", help="do not mount /api/raster")
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    args = parser.parse_args(argv)
    try:  # settings.json and the store go there: a file or a read-only place is said now, not at a save
        writable_folder(args.data_dir)
    except ValueError as exc:
        parser.error(f"--data-dir: {exc}")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")

    from app.api.inputs import SERVER_OPTIONS
    from app.ui.server import create_server  # heavy imports after argument parsing (fast --help)

    server = create_server(args.data_dir, api=not args.no_api)
    print(f"bb-match: open http://{args.host}:{args.port}/ (data: {args.data_dir})", flush=True)
    uvicorn.run(
        server, host=args.host, port=args.port, log_level=args.log_level, access_log=False, **SERVER_OPTIONS
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
