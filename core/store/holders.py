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
import time
from datetime import UTC, datetime
from pathlib import Path

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
    return holder_alive(run.owner, heartbeat_age_s(run.heartbeat))


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


def holder_alive(owner: str | None, heartbeat_age_s: float | None) -> str | None:
    """live_holder, but a process of this machine that still runs and began before its last heartbeat holds
    its run however long it has been silent: a VLM slower than STALE_AFTER_S (BB_VLM_TIMEOUT raised, as the
    timeout's message advises) let a second process take a run its driver was still driving. The start
    time rules out a pid the system gave to another process since (Linux: /proc; elsewhere the heartbeat
    alone decides)."""
    if not owner or heartbeat_age_s is None or heartbeat_age_s <= STALE_AFTER_S:
        return live_holder(owner, heartbeat_age_s)
    host, _, pid_text = owner.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit() or not _pid_runs(int(pid_text)):
        return None
    started = _started_at(int(pid_text))
    beat = time.time() - heartbeat_age_s
    return f"process {pid_text} on this machine" if started is not None and started < beat else None


def _started_at(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), from /proc; None where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


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
