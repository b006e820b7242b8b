"""Who owns a cluster, and whether that owner still lives.

An owner is "HOST:PID:STARTTIME": STARTTIME (field 22 of /proc/PID/stat) tells
a reused PID apart. Under pytest-xdist the owner is the controlling pytest
process, which outlives every worker that uses the shared cluster.
"""

from __future__ import annotations

import os
import socket


def start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields_after_name = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields_after_name[19]  # field 22 counted from the PID


def owning_pid() -> int:
    return os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()


def current() -> str:
    pid = owning_pid()
    return f"{socket.gethostname()}:{pid}:{start_time(pid)}"


def is_gone(owner: str) -> bool:
    """True only when the owner certainly ended: same host, and its PID is dead or reused."""
    host, _, rest = owner.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return start_time(int(pid)) != started
