"""Command line: `python -m core.metrics TARGET CANDIDATE [--no-lpips] [--width 512]` prints the match
report as JSON. A bad input is a one-line error on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import argparse
import json
import sys

from core.argtypes import whole_in
from core.helptext import DefaultsHelpFormatter
from core.imageio import ImageInputError
from core.metrics.report import WORKING_WIDTH, match_report

MAX_WORKING_WIDTH = 4096
"""Widest working width taken: 100000 px ran until killed (or out of memory) for two 1652-px images."""


working_width = whole_in(16, MAX_WORKING_WIDTH, " px")
"""A --width: 16 px (SSIM's windows need room) to MAX_WORKING_WIDTH."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input)."""
    parser = argparse.ArgumentParser(
        prog="python -m core.metrics",
        description="Compare a candidate image with a target (JSON report).",
        formatter_class=DefaultsHelpFormatter,
    )
    parser.add_argument("target", help="target image file (the design to match)")
    parser.add_argument("candidate", help="candidate image file (e.g. a render)")
    parser.add_argument("--no-lpips", action="store_true", help="skip LPIPS (reported as null)")
    parser.add_argument(
        "--width",
        type=working_width,
        default=WORKING_WIDTH,
        help=f"working width in px, 16 to {MAX_WORKING_WIDTH} (default {WORKING_WIDTH})",
    )
    args = parser.parse_args(argv)
    try:
        report = match_report(args.target, args.candidate, lpips=not args.no_lpips, working_width=args.width)
    except (ImageInputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
