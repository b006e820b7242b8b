"""Who owns a cluster: "HOST:PID:STARTTIME", recorded in its labels, and whose it is: the user
(uid) whose process made it, recorded beside (`down` deletes the clusters of the user who runs it).

STARTTIME (field 22 of /proc/PID/stat) tells a reused PID apart. Under
pytest-xdist the owner is the controlling pytest process, which outlives every
worker that uses the shared cluster. Whether the owner still lives is judged in
one place only: the cluster's reaper (images/kubernetes/reaper/main.go), which
gets the PID and start time and removes the cluster when the owner ends.
"""

from __future__ import annotations

import os
import pwd
import socket

from .labels import USER_LABEL


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


def user() -> str:
    """This process's user, as USER_LABEL records it: the uid."""
    return str(os.getuid())


def is_mine(labels: dict[str, str]) -> bool:
    """Whether this process's user made the cluster with these labels; one made by older code, which
    recorded no user, is not taken for anyone's own."""
    return labels.get(USER_LABEL) == user()


def user_name(uid: str | int) -> str:
    try:
        return pwd.getpwuid(int(uid)).pw_name
    except (KeyError, ValueError):
        return f"uid {uid}"


def whose(labels: dict[str, str]) -> str:
    """A cluster's user in words, from the labels of one of its containers."""
    uid = labels.get(USER_LABEL)
    return f"user {user_name(uid)}" if uid is not None else "user not recorded (older pytest-single-k8s)"
