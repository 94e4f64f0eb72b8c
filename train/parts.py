"""Work cut into numbered parts (generate_data's shards, build_retrieval's chunks), each written atomically
by one call, run in this process or a pool, and stopped cleanly by Ctrl-C.

Why: Ctrl-C used to end both tools in a KeyboardInterrupt traceback (from every worker of the pool) and no
summary. Now the first Ctrl-C hands out no more parts, lets the ones being written finish (a part is
seconds of work), and says what is kept; a rerun of the same command does the rest, as before."""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from core.interrupt import cancel_on_interrupt


def _ignore_interrupts() -> None:
    """Pool workers leave Ctrl-C to the parent, which decides when they stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_parts(
    work: Callable[[dict[str, Any], int], Any],
    config: dict[str, Any],
    parts: Sequence[int],
    workers: int,
    done: Callable[[int, Any], None],
    what: str,
) -> bool:
    """`work(config, k)` for each k of `parts`, `done(k, result)` as each ends (in order of ending, with
    workers > 1). Returns False when Ctrl-C stopped it: the parts already done stand, the rest were not
    begun. A second Ctrl-C raises KeyboardInterrupt."""
    keeping = "the finished ones; the ones being written finish first"
    with cancel_on_interrupt(lambda: None, what, keeping) as interrupted:
        if workers <= 1:
            for k in parts:
                if interrupted():
                    return False
                done(k, work(config, k))
            return not interrupted()
        waiting = list(parts)[::-1]
        running: dict[Future[Any], int] = {}
        with ProcessPoolExecutor(workers, initializer=_ignore_interrupts) as pool:
            while waiting or running:
                while waiting and len(running) < workers and not interrupted():
                    k = waiting.pop()
                    running[pool.submit(work, config, k)] = k
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    done(running.pop(future), future.result())
        return not interrupted()
