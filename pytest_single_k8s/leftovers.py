"""What of ours is left on this host: the check behind "leave nothing behind".

Lists containers, images (a cluster's sandbox image), networks and volumes that carry
our labels, pod containers,
and, seen from the Docker engine's namespaces by a one-shot helper container:
KUBE- iptables chains, mounts under and files named like a cluster directory,
and the kubelet's pod cgroups. An empty list means a clean host.
"""

from __future__ import annotations

import docker

from .cluster import directory, pods
from .engine import oneshot
from .engine.containers import listed
from .engine.labels import CLUSTER_LABEL, HELPER_LABEL, LEASE_LABEL, REAPER_LABEL


def find(client: docker.DockerClient, kubernetes_image: str) -> list[str]:
    """Everything of ours on the engine's host, one "KIND: WHAT" line each."""
    found = [
        f"container: {x.name}"
        for label in (CLUSTER_LABEL, REAPER_LABEL, HELPER_LABEL, LEASE_LABEL)
        for x in listed(client, {"label": label})
    ]
    found += [f"pod container: {x.name}" for x in pods.split(client)[0]]
    found += [f"image: {x.tags or x.id}" for x in client.images.list(filters={"label": CLUSTER_LABEL})]
    found += [f"network: {x.name}" for x in client.networks.list(filters={"label": CLUSTER_LABEL})]
    found += [f"volume: {x.name}" for x in client.volumes.list(filters={"label": CLUSTER_LABEL})]
    prefix = f"{directory.ROOT}/{directory.PREFIX}"
    output = oneshot.run(
        client,
        oneshot.on_host(
            kubernetes_image, ["with-host-iptables", "host-leftovers", prefix], {HELPER_LABEL: "host-leftovers"}
        ),
    )
    return found + output.splitlines()
