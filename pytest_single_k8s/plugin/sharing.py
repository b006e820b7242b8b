"""One cluster for a whole pytest-xdist run.

Workers agree through a file lock in the run's shared temporary directory: the
first creates the cluster and records it in a state file, the others attach to
it, each counts itself in, and the last one out deletes it. If the first fails,
the failure is recorded instead and every other worker fails at once with the
same message, rather than trying again in turn. Each worker holds its own lease
on the cluster (engine/lease.py), so its reaper does not fire while any worker
still runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import filelock

from ..errors import SingleK8sError


class SharedCluster:
    def __init__(self, directory: Path, run_id: str) -> None:
        self.state_file = directory / f"pytest-single-k8s-{run_id}.json"
        self.lock = filelock.FileLock(str(directory / f"pytest-single-k8s-{run_id}.lock"))

    def join(self, create: Callable[[], dict[str, Any]], attach: Callable[[dict[str, Any]], None]) -> None:
        """Create the cluster (create returns its state) or attach to the recorded one."""
        with self.lock:
            state = json.loads(self.state_file.read_text()) if self.state_file.exists() else None
            if state is None:
                try:
                    state = {"cluster": create(), "users": 0}
                except BaseException as error:
                    self.state_file.write_text(json.dumps({"failed": f"{type(error).__name__}: {error}"}))
                    raise
            elif "failed" in state:
                raise SingleK8sError(f"another pytest-xdist worker failed to create the cluster: {state['failed']}")
            else:
                attach(state["cluster"])
            state["users"] += 1
            self.state_file.write_text(json.dumps(state))

    def leave(self, delete: Callable[[], None]) -> None:
        """Count this worker out; the last one deletes the cluster."""
        with self.lock:
            state = json.loads(self.state_file.read_text())
            state["users"] -= 1
            if state["users"] > 0:
                self.state_file.write_text(json.dumps(state))
                return
            self.state_file.unlink()
            delete()
