"""Who owns a cluster: "HOST:PID:STARTTIME", recorded in its labels.

STARTTIME (field 22 of /proc/PID/stat) tells a reused PID apart. Under
pytest-xdist the owner is the controlling pytest process, which outlives every
worker that uses the shared cluster. Whether the owner still lives is judged in
one place only: the cluster's reaper (images/kubernetes/reaper/main.go), which
gets the PID and start time and removes the cluster when the owner ends.
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
