"""What a kept cluster leaves in its directory for the sessions that attach to it later.

STATE    what attaching needs (Cluster.state()), written once the cluster is ready:
         a kept cluster without it never finished starting.
USERS    every session that uses the kept cluster holds a shared lock on this file for
         its whole length; a session that wants the engine for other settings deletes
         the cluster only under an exclusive lock, so never under a running test. The
         kernel drops a lock when its process ends, however it ends. Another user's kept cluster
         can be neither used nor deleted: its directory is theirs (0700), and that is said.
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path
from typing import IO, Any

from ..engine import ownership
from ..errors import EngineBusy, SingleK8sError

STATE = "cluster.json"
USERS = "users.lock"


def write_state(directory: Path, state: dict[str, Any]) -> None:
    (directory / STATE).write_text(json.dumps(state))


def read_state(directory: Path) -> dict[str, Any] | None:
    try:
        return json.loads((directory / STATE).read_text())
    except (OSError, ValueError):
        return None


class Users:
    """This process's lock on a kept cluster's USERS file: shared to use it, exclusive to delete it."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / USERS
        self._file: IO[bytes] | None = None

    def hold(self) -> None:
        """Use the cluster; EngineBusy while a session deletes it."""
        self._lock(fcntl.LOCK_SH, "is being deleted by another session")

    def take(self) -> None:
        """Delete the cluster; EngineBusy while another session uses it."""
        self._lock(fcntl.LOCK_EX, "is in use by another session")

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file drops the lock
            self._file = None

    def _lock(self, kind: int, busy: str) -> None:
        self.release()
        try:
            handle = open(self.path, "ab")  # noqa: SIM115 - held open for as long as the lock
        except FileNotFoundError:
            raise EngineBusy(f"the kept cluster in {self.path.parent} is gone") from None
        except PermissionError:
            raise SingleK8sError(not_yours(self.path.parent)) from None
        try:
            fcntl.flock(handle, kind | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise EngineBusy(f"the kept cluster in {self.path.parent} {busy}") from None
        self._file = handle


def not_yours(directory: Path) -> str:
    """Why this user can neither use nor delete a kept cluster, and what to do."""
    try:
        owner = f"user {ownership.user_name(directory.stat().st_uid)}"
    except OSError:
        owner = "another user"
    return (
        f"the kept cluster in {directory} is {owner}'s: you can neither attach to it nor delete it (its "
        "directory is theirs), and one Docker engine runs one cluster at a time. Ask them to delete it "
        "(`pytest-single-k8s down`), or delete it yourself with `pytest-single-k8s down --all`"
    )


def differences(kept: dict[str, Any], wanted: dict[str, Any]) -> str:
    """What differs between a kept cluster's plan and the one a session asks for, in words."""
    said = []
    if kept.get("version") != wanted["version"]:
        said.append(f"it runs Kubernetes {kept.get('version')}, this session asks for {wanted['version']}")
    elif kept.get("images") != wanted["images"]:
        said.append("its images were built from other inputs (the images were rebuilt since)")
    if kept.get("apiserver_host_port") != wanted["apiserver_host_port"]:
        said.append(f"its apiserver port setting is {kept.get('apiserver_host_port') or 'free'}")
    if kept.get("extra_args") != wanted["extra_args"]:
        said.append(f"its extra arguments are {kept.get('extra_args') or 'none'}")
    if kept.get("addons") != wanted["addons"]:
        said.append(f"its addons are {','.join(kept.get('addons') or []) or 'none'}")
    return "; ".join(said) or "it was laid out by another version of pytest-single-k8s"
