"""A cluster's directory on the host (keys, configs, the kubelet's root) and the one check
every path must pass before anything is mounted, unmounted or deleted there."""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

from ..errors import SingleK8sError

PREFIX = "pytest-single-k8s-"  # cluster directories are made in the temporary directory with it
SUBDIRECTORIES = ("pki", "etc", "etcd", "kubelet", "pod-logs", "cri-dockerd")
MARKER = "cluster-id"  # a file the engine must see in the directory (host-prepare checks it)


def make(cluster_id: str) -> Path:
    """A new 0700 directory for the cluster in the temporary directory ($TMPDIR is honoured),
    with its subdirectories and the marker file."""
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{cluster_id}-"))
    for sub in SUBDIRECTORIES:
        (path / sub).mkdir(mode=0o700)
    (path / MARKER).write_text(cluster_id)
    return path


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
