"""Which process holds a `running` run, so that a run another process drives is never driven twice.

A run left `running` by a process that died (killed, crashed, a laptop's app closed) must be resumable at
once, but one that a CLI or another app is still driving must not be: two drivers would ask the VLM for
every step twice and write the same steps into one run. Each run records its holder (host and pid) and a
heartbeat (the time of its last rating or progress). A holder on this machine counts as alive while its
pid runs and, past STALE_AFTER_S of silence, began before that heartbeat; another machine's holder can only
be judged by its heartbeat (fresher than STALE_AFTER_S).
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
    return live_holder(run.owner, heartbeat_age_s(run.heartbeat))


def heartbeat_age_s(heartbeat: str | None) -> float | None:
    """Seconds since a heartbeat the store wrote (SQLite's UTC time, ISO 8601 with a Z); None for none."""
    if not heartbeat:
        return None
    return (datetime.now(UTC) - datetime.fromisoformat(heartbeat)).total_seconds()


def live_holder(owner: str | None, heartbeat_age_s: float | None) -> str | None:
    """Words naming the live process that holds a run ("process 123 on this machine"), or None when no
    live process does: never recorded, another machine's silent for STALE_AFTER_S, or a pid of this
    machine that has ended or that began after the heartbeat (the system gave the number to another
    process since). A process of this machine that still runs and began before its last heartbeat holds
    its run however long it has been silent: a VLM slower than STALE_AFTER_S (BB_VLM_TIMEOUT raised, as
    the timeout's message advises) let a second process take a run its driver was still driving. Where
    start times cannot be read (no /proc), the heartbeat alone decides, as for another machine."""
    if not owner or heartbeat_age_s is None:
        return None
    host, _, pid_text = owner.rpartition(":")
    if not pid_text.isdigit():
        return None
    stale = heartbeat_age_s > STALE_AFTER_S
    if host != socket.gethostname():
        return None if stale else f"process {pid_text} on {host}"
    pid = int(pid_text)
    if not _pid_runs(pid):
        return None
    if stale and not _began_before(pid, time.time() - heartbeat_age_s):
        return None
    return f"process {pid_text} on this machine"


def _began_before(pid: int, moment: float) -> bool:
    """Whether process `pid` started before `moment` (seconds since the epoch), read from /proc; False
    where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError, StopIteration):
        return False
    return boot + ticks / os.sysconf("SC_CLK_TCK") < moment


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
