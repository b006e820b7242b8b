"""Who made a cluster: "HOST:PID" of the process, recorded in its labels for humans, and whose it
is: the user (uid) whose process made it, recorded beside (`down` deletes the clusters of the user
who runs it). Whether a cluster is still used is not judged from these: its sessions hold leases
on it (lease.py), which its reaper watches."""

from __future__ import annotations

import os
import pwd
import socket

from .labels import USER_LABEL


def current() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


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
