"""What of ours is left on this host: the check behind "leave nothing behind".

Lists containers, networks and volumes that carry our labels, pod containers,
and, seen from the Docker engine's namespaces by a one-shot helper container:
KUBE- iptables chains, mounts under and files named like a cluster directory,
and the kubelet's pod cgroups. An empty list means a clean host.
"""

from __future__ import annotations

import tempfile

import docker

from . import components as c
from . import oneshot

def find(client: docker.DockerClient, kubernetes_image: str) -> list[str]:
    found = [f"container: {x.name}" for label in (c.CLUSTER_LABEL, c.REAPER_LABEL, c.HELPER_LABEL)
             for x in client.containers.list(all=True, filters={"label": label})]
    found += [f"pod container: {x.name}" for x in client.containers.list(all=True, filters={"label": c.POD_UID_LABEL})]
    found += [f"network: {x.name}" for x in client.networks.list(filters={"label": c.CLUSTER_LABEL})]
    found += [f"volume: {x.name}" for x in client.volumes.list(filters={"label": c.CLUSTER_LABEL})]
    output = oneshot.run_on_host(
        client, kubernetes_image, ["with-host-iptables", "host-leftovers", f"{tempfile.gettempdir()}/{c.DIRECTORY_PREFIX}"],
        labels={c.HELPER_LABEL: "host-leftovers"},
    )
    return found + output.splitlines()
