"""Ctrl-C a command-line run once it is under way: the one way two CLI tests drive their interrupts."""

from __future__ import annotations

import signal
import subprocess
import time


def interrupt_when_started(
    proc: subprocess.Popen[str], marker: str, *, settle_s: float = 2.0
) -> tuple[str, str]:
    """Read `proc`'s stderr until `marker` shows (its progress bar runs), wait `settle_s`, send one SIGINT,
    and return (stdout, the rest of stderr) once it ends; the process is killed whatever happens."""
    assert proc.stderr is not None
    try:
        seen = ""
        while marker not in seen:
            char = proc.stderr.read(1)
            assert char or proc.poll() is None, f"the CLI ended before {marker!r}: {seen}"
            seen += char
        time.sleep(settle_s)
        proc.send_signal(signal.SIGINT)
        return proc.communicate(timeout=120)
    finally:
        proc.kill()
