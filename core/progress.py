"""Progress bars for the command-line tools: tqdm, quiet when nobody watches a terminal.

tqdm redraws a bar with a carriage return up to ten times a second. In a terminal that is the bar; written
to a log file or a CI job's output every redraw stays. `core.refine` piped to a file left 1,400 redraws
(≈ 200 KB) for one 40-s run, since each new best loss also forced a redraw. Off a terminal a bar here is
redrawn at most every `LOG_INTERVAL_S` seconds, so a log keeps a line now and then and the final line.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from tqdm import tqdm

LOG_INTERVAL_S = 30.0
"""Seconds between redraws when the bar's stream is not a terminal."""


def is_terminal(stream: TextIO) -> bool:
    """Whether `stream` is an interactive terminal (False for files, pipes and closed streams)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def progress_bar(*args: Any, file: TextIO | None = None, **kwargs: Any) -> tqdm:
    """tqdm on stderr (or `file`); off a terminal redrawn at most every `LOG_INTERVAL_S` s unless the
    caller sets `mininterval` itself."""
    stream = sys.stderr if file is None else file
    if not is_terminal(stream):
        kwargs.setdefault("mininterval", LOG_INTERVAL_S)
    return tqdm(*args, file=stream, **kwargs)
