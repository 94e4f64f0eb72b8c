"""CLI: python -m core.render PARAMS.json -o OUT.png [--size WxH] [--quality Q] [--renderer URL]"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from core.helptext import DefaultsHelpFormatter
from core.render import RenderError, get_renderer


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, _, h = text.lower().partition("x")
        width, height = int(w), int(h or w)
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1024x1024 or 1652x919, got {text!r}") from None
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return width, height


def load_params(path: str) -> dict:
    """A JSON object from a file ('-' = stdin); a .jsonl file gives its first line."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    if path.endswith(".jsonl"):
        text = next((line for line in text.splitlines() if line.strip()), "")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object of parameters, found {type(data).__name__}")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.render", description=__doc__, formatter_class=DefaultsHelpFormatter
    )
    parser.add_argument("params", help="parameters as JSON (flat, Leva-prefixed or wrapped); '-' reads stdin")
    parser.add_argument(
        "-o", "--output", required=True, help="PNG file to write (.png, or a device such as /dev/stdout)"
    )
    parser.add_argument("--size", type=parse_size, default=(1024, 1024), help="WxH in px (default 1024x1024)")
    parser.add_argument(
        "--quality", default="exact", choices=["exact", "fast", "draft"], help="default exact"
    )
    parser.add_argument("--renderer", default="local", help="'local' (the twin) or an /api/raster URL")
    args = parser.parse_args(argv)
    if (suffix := Path(args.output).suffix) and suffix.lower() != ".png":  # PNG bytes went under any name
        parser.error(f"-o {args.output}: renders are written as PNG (lossless); name the file .png")

    from core.imageio import save_png
    from core.params import ParamsError

    try:
        params = load_params(args.params)
        options = {"quality": args.quality} if args.renderer == "local" else {}
        with get_renderer(args.renderer, **options) as renderer:
            start = time.perf_counter()
            image = renderer.render(params, *args.size)
            elapsed = time.perf_counter() - start
        save_png(image, args.output)
    except (OSError, ValueError, ParamsError, RenderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output} ({args.size[0]}x{args.size[1]}, {elapsed * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
