"""Ctrl-C as "stop and keep the best so far" for command-line runs.

A long run (refinement, validation) that dies on Ctrl-C loses everything it found. `cancel_on_interrupt`
turns the first Ctrl-C into a call of the run's own cancel (it then ends at the next evaluation and hands
over its best), and only a second Ctrl-C into KeyboardInterrupt, for a run that does not stop.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def cancel_on_interrupt(
    cancel: Callable[[], None], what: str = "the run", keeping: str = "the best so far"
) -> Iterator[Callable[[], bool]]:
    """Within the block, the first SIGINT calls `cancel()` and says so on stderr; a second one raises
    KeyboardInterrupt. Yields a function telling whether the block was interrupted. The previous handler is
    back afterwards. Outside the main thread (where Python cannot take signals) it only yields."""
    hits = 0

    def interrupted() -> bool:
        return hits > 0

    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return

    def handle(signum: int, frame: Any) -> None:
        nonlocal hits
        hits += 1
        if hits > 1:
            raise KeyboardInterrupt
        print(f"\nstopping {what}: keeping {keeping} (Ctrl-C again to abort)", file=sys.stderr)
        cancel()

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)
