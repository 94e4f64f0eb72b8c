"""Which process holds a `running` run, so that a run another process drives is never driven twice.

A run left `running` by a process that died (killed, crashed, a laptop's app closed) must be resumable at
once, but one that a CLI or another app is still driving must not be: two drivers would ask the VLM for
every step twice and write the same steps into one run. Each run records its holder (host and pid) and a
heartbeat (the time of its last rating or progress). A holder counts as alive while its heartbeat is
fresher than STALE_AFTER_S and, on this machine, its pid still runs; another machine's holder can only be
judged by its heartbeat.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from .records import Run

STALE_AFTER_S = 600.0
"""A holder silent this long has left its run: longer than one evaluation takes even with a slow VLM
(two asks of at most 120 s each, core.judge.openai_vlm), and than one generation of the proxy judge."""


def this_process() -> str:
    """The holder id of the calling process; read at each call, since worker processes fork."""
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_of(run: Run) -> str | None:
    """Words naming the live process, other than the calling one, that drives `run`; None when the run is
    not `running`, is the caller's own, or its process has gone."""
    if run.status != "running" or run.owner in (None, this_process()):
        return None
    return live_holder(run.owner, heartbeat_age_s(run.heartbeat))


def heartbeat_age_s(heartbeat: str | None) -> float | None:
    """Seconds since a heartbeat the store wrote (SQLite's UTC time, ISO 8601 with a Z); None for none."""
    if not heartbeat:
        return None
    return (datetime.now(UTC) - datetime.fromisoformat(heartbeat)).total_seconds()


def live_holder(owner: str | None, heartbeat_age_s: float | None) -> str | None:
    """Words naming the live process that holds a run ("process 123 on this machine"), or None when no
    live process does: never recorded, silent for STALE_AFTER_S, or a pid of this machine that has ended."""
    if not owner or heartbeat_age_s is None or heartbeat_age_s > STALE_AFTER_S:
        return None
    host, _, pid_text = owner.rpartition(":")
    if not pid_text.isdigit():
        return None
    if host != socket.gethostname():
        return f"process {pid_text} on {host}"
    return f"process {pid_text} on this machine" if _pid_runs(int(pid_text)) else None


def _pid_runs(pid: int) -> bool:
    """Whether a process of this machine with that pid exists (signal 0 checks without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    except OSError:
        return False
    return True
