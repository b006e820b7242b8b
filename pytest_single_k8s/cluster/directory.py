"""A cluster's directory on the engine's host (the kubelet's root, pod logs, volumes) and the one
check every path must pass before anything is mounted, unmounted or deleted there.

The directory is the engine host's, not this process's: it is made, used and removed there by
containers (images/kubernetes/host-prepare, host-cleanup), whether pytest shares that host or not.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ..errors import SingleK8sError

ROOT = "/tmp"  # on the engine's host
PREFIX = "pytest-single-k8s-"  # cluster directories are made in ROOT with it
VOLUMES = "volumes"  # the storage addon's provisioned volumes: removed with the directory
POD_LOGS = "pod-logs"  # the kubelet's podLogsDir: cri-dockerd names each pod container's log file there
SUBDIRECTORIES = ("kubelet", POD_LOGS, "cri-dockerd", VOLUMES)  # made by host-prepare, with the marker
MARKER = "cluster-id"  # holds the cluster id; images/kubernetes/host-lib checks it before any change under DIR


def path_for(cluster_id: str) -> Path:
    """Where the cluster's directory goes on the engine's host."""
    return checked(f"{ROOT}/{PREFIX}{cluster_id}")


def checked(path: str | Path) -> Path:
    """`path` if it can only be a cluster directory of ours; SingleK8sError otherwise.

    Paths come from container labels, which anyone with the engine can write: a
    wrong one would make us unmount or delete what is not ours. Accepted: an
    absolute, normalised path below some directory, whose last part starts with
    PREFIX; refused: anything relative, with `.` or `..`, or named otherwise.
    """
    text = str(path)
    pure = PurePosixPath(text)
    if (
        not pure.is_absolute()
        or len(pure.parts) < 3
        or str(pure) != text
        or any(part in (".", "..") for part in text.split("/"))
        or not pure.name.startswith(PREFIX)
    ):
        raise SingleK8sError(f"refusing {text!r} as a cluster directory: ours are /…/{PREFIX}<id>-…")
    return Path(text)
