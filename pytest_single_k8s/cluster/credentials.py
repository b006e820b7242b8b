"""What this process needs of a cluster's PKI to reach it: the CA's certificate, the admin's pair and
kubeconfig, the webhook server's pair.

The kubectl container holds the files (CLIENT_FILES; specs.components); a process that did not
make the cluster reads them from there, through the engine. Here they live in memory files
(memfd): clients open them by path (/proc/PID/fd/N, which other processes of the user can open
too, kubectl for one), yet nothing lands on a disk, and they go with the process however it ends.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..common.paths import cache_dir
from ..engine.containers import files_in
from ..errors import SingleK8sError
from .pki import kubeconfig

CA, CERTIFICATE, KEY = "ca.crt", "admin.crt", "admin.key"
WEBHOOK_CERTIFICATE, WEBHOOK_KEY = "webhook-server.crt", "webhook-server.key"
CLIENT_FILES = (CA, CERTIFICATE, KEY, WEBHOOK_CERTIFICATE, WEBHOOK_KEY)
KUBECONFIG = "admin.kubeconfig"


class Credentials:
    """CLIENT_FILES by name, and an admin kubeconfig for `server`, as files only this process holds."""

    def __init__(self, files: Mapping[str, bytes], server: str) -> None:
        missing = sorted(set(CLIENT_FILES) - set(files))
        if missing:
            raise SingleK8sError(f"the cluster's credentials lack {', '.join(missing)}")
        contents = {name: files[name] for name in CLIENT_FILES}
        contents[KUBECONFIG] = kubeconfig(files[CA], files[CERTIFICATE], files[KEY], "admin", server)
        self.contents = contents
        self._descriptors = {name: _memory_file(name, content) for name, content in contents.items()}

    def path(self, name: str) -> Path:
        return Path(f"/proc/{os.getpid()}/fd/{self._descriptors[name]}")

    def close(self) -> None:
        for descriptor in self._descriptors.values():
            os.close(descriptor)
        self._descriptors.clear()


def from_container(container: Any, directory: str) -> dict[str, bytes]:
    """CLIENT_FILES of `directory` in a container, by name."""
    return {name: content for name, content in files_in(container, directory).items() if name in CLIENT_FILES}


def _memory_file(name: str, content: bytes) -> int:
    descriptor = os.memfd_create(f"pytest-single-k8s-{name}")
    os.write(descriptor, content)
    return descriptor


def saved(cluster_id: str) -> Path:
    """Where a kept cluster's admin kubeconfig is saved for people and other tools (save())."""
    return cache_dir() / "kubeconfigs" / f"{cluster_id}.kubeconfig"


def save(cluster_id: str, credentials: Credentials) -> Path:
    """The admin kubeconfig as a file (0600) that outlives this process: a kept cluster's, for `export
    KUBECONFIG=`; forget() removes it when the cluster goes."""
    path = saved(cluster_id)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(credentials.contents[KUBECONFIG])
    return path


def forget(cluster_id: str) -> None:
    saved(cluster_id).unlink(missing_ok=True)
