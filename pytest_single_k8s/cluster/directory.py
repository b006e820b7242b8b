"""A cluster's directory on the host (keys, configs, the kubelet's root) and the one check
every path must pass before anything is mounted, unmounted or deleted there."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path, PurePosixPath

from ..errors import SingleK8sError

PREFIX = "pytest-single-k8s-"  # cluster directories are made in the temporary directory with it
VOLUMES = "volumes"  # the storage addon's provisioned volumes: removed with the directory
SUBDIRECTORIES = ("pki", "kubelet", "pod-logs", "cri-dockerd", VOLUMES)
MARKER = "cluster-id"  # holds the cluster id; images/kubernetes/host-lib checks it before any change under DIR


def path_for(cluster_id: str) -> Path:
    """Where the cluster's directory goes: in the temporary directory ($TMPDIR is honoured)."""
    # Resolved: mount tables name the real path, and the clean-up matches mounts by it.
    path = Path(tempfile.gettempdir()).resolve() / f"{PREFIX}{cluster_id}"
    try:
        return checked(path)
    except SingleK8sError as error:
        raise SingleK8sError(f"{error}; set TMPDIR to a directory below / (e.g. /tmp)") from None


def make(path: Path, cluster_id: str) -> None:
    """The cluster's new 0700 directory, with its subdirectories and the marker file (host-lib's
    is_cluster_directory reads it: the id of the cluster whose directory it is)."""
    path.mkdir(mode=0o700)
    for sub in SUBDIRECTORIES:
        (path / sub).mkdir(mode=0o700)
    (path / MARKER).write_text(cluster_id)


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


def remove_unmounted(path: Path) -> None:
    """Delete the directory unless something is still mounted at or below it (this process's view):
    deleting through a mount, such as a pod's hostPath, would delete the host's files."""
    with open("/proc/self/mountinfo") as mountinfo:
        mounts = [line.split()[4] for line in mountinfo]
    if not any(mount == str(path) or mount.startswith(f"{path}/") for mount in mounts):
        shutil.rmtree(path, ignore_errors=True)
