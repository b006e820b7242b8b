"""Deleting a cluster from Docker's state alone (labels and names), so that a
normal teardown and the reaping of a dead owner's cluster do the same thing."""

from __future__ import annotations

import shutil
from pathlib import Path

import docker
import docker.errors

from . import components as c
from . import oneshot
from .errors import ComponentFailed
from .steps import all_of


def delete_cluster(client: docker.DockerClient, cluster_id: str, directory: Path, kubernetes_image: str) -> None:
    """Node agents first (no kubelet may restart a pod), then the pods' containers
    (one cluster per engine: every pod container is ours), then the other
    components and, at once, the host clean-up; the reaper, which holds the
    engine, last. Every step runs even if an earlier one failed."""
    ours = client.containers.list(all=True, filters={"label": f"{c.CLUSTER_LABEL}={cluster_id}"})
    node_agents = [x for x in ours if x.labels.get(c.COMPONENT_LABEL) in (c.KUBELET, c.PROXY)]
    try:
        all_of([
            [lambda x=x: remove(x) for x in node_agents],
            [lambda x=x: remove(x) for x in client.containers.list(all=True, filters={"label": c.POD_UID_LABEL})],
            [*(lambda x=x: remove(x) for x in ours if x not in node_agents),
             lambda: host_helper(client, kubernetes_image, ["with-host-iptables", "host-cleanup", str(directory)],
                                 {c.HELPER_LABEL: cluster_id}, "clean up the host")],
            [lambda x=x: remove(x)
             for x in client.containers.list(all=True, filters={"label": f"{c.REAPER_LABEL}={cluster_id}"})],
        ])
    finally:
        shutil.rmtree(directory, ignore_errors=True)  # in case the helper could not run


def host_helper(client: docker.DockerClient, image: str, command: list[str], labels: dict[str, str], what: str
                ) -> None:
    """Run one of the kubernetes image's host scripts; a failure names the script and shows its output."""
    try:
        oneshot.run_on_host(client, image, command, labels)
    except (oneshot.OneShotFailed, docker.errors.APIError) as error:
        output = error.output if isinstance(error, oneshot.OneShotFailed) else str(error)
        raise ComponentFailed(
            command[-2], f"could not {what}", output,
            "the kubelet needs a privileged container with the host's PID and network namespaces",
        ) from error


def remove(container) -> None:
    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass
