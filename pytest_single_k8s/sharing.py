"""One cluster for a whole pytest-xdist run.

Workers agree through a file lock in the run's shared temporary directory: the
first creates the cluster and records it in a state file, the others attach to
it, each counts itself in, and the last one out deletes it. The cluster's owner
is the controlling pytest process (ownership.owning_pid), so its reaper does not
fire while any worker still runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import filelock


class SharedCluster:
    def __init__(self, directory: Path, run_id: str) -> None:
        self.state_file = directory / f"pytest-single-k8s-{run_id}.json"
        self.lock = filelock.FileLock(str(directory / f"pytest-single-k8s-{run_id}.lock"))

    def join(self, create: Callable[[], dict], attach: Callable[[dict], None]) -> None:
        """Create the cluster (create returns its state) or attach to the recorded one."""
        with self.lock:
            state = json.loads(self.state_file.read_text()) if self.state_file.exists() else None
            if state is None:
                state = {"cluster": create(), "users": 0}
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
