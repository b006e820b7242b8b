"""A session's lease: a container that runs for as long as the session holds a connection to it.

The container (`cat`, with its stdin open for one attached client) ends when that client's
connection closes: when the session lets it go, and also when its process dies however it dies,
since the kernel closes the connection then. So the engine itself tells whether a session lives,
wherever the session runs: on the engine's host, in a container beside it, or across a TCP
connection to a remote engine. A cluster's reaper deletes it once no lease on it runs
(images/kubernetes/reaper); a kept cluster is deleted only while none runs, by a session that
holds a lease of another kind, named, that says so (reuse.py).
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from typing import Any

import docker

from ..errors import SingleK8sError
from .containers import ContainerSpec, create, create_named, listed, remove
from .labels import LEASE_LABEL


@dataclass
class Lease:
    container: Any
    connection: Any  # the attached socket: the lease runs while it is open

    def release(self) -> None:
        """Close the connection (the container's stdin closes and it exits) and remove the container at
        once, so that nothing sees it afterwards."""
        raw = getattr(self.connection, "_sock", self.connection)  # docker-py hands back a SocketIO around it
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)
        raw.close()
        remove(self.container)


def take(client: docker.DockerClient, image: str, labels: dict[str, str], name: str | None = None) -> Lease:
    """A lease of this session, from `image` (one with `cat`), carrying `labels`; with a `name`, only one
    session can hold it at a time (containers.NameTaken for the others)."""
    spec = ContainerSpec(name, image, ["cat"], labels, stdin_open=True, auto_remove=True)
    container = create_named(client, spec) if name else create(client, spec)
    try:
        # docker-py asks for StdinOnce (stdin closed when the one attached client goes) with an open stdin
        # on create; the lease depends on it, so it is checked rather than trusted.
        if not container.attrs["Config"].get("StdinOnce"):
            raise SingleK8sError("the Docker engine did not keep a lease's stdin to one attached client")
        connection = client.api.attach_socket(container.id, params={"stdin": 1, "stream": 1})
        container.start()
    except BaseException:
        remove(container)
        raise
    return Lease(container, connection)


def on(cluster_id: str) -> dict[str, str]:
    """The label of a lease on a cluster."""
    return {LEASE_LABEL: cluster_id}


def holders(client: docker.DockerClient, cluster_id: str) -> list[Any]:
    """The running leases on a cluster: the sessions that use it now."""
    return listed(client, {"label": f"{LEASE_LABEL}={cluster_id}", "status": "running"})
