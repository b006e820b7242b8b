"""Deleting a cluster from Docker's state alone (labels and names), so that a
normal teardown and the reaping of a dead owner's cluster do the same thing."""

from __future__ import annotations

import concurrent.futures
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import docker
import docker.errors

from . import components as c
from . import oneshot
from .errors import ComponentFailed

POD_UID_LABEL = "io.kubernetes.pod.uid"


def delete_cluster(client: docker.DockerClient, cluster_id: str, directory: Path, kubernetes_image: str) -> None:
    """Node agents first (no kubelet may restart a pod), then the pods' containers
    (one cluster per engine: every pod container is ours), then the other
    components and, at once, the host clean-up; the reaper last."""
    ours = client.containers.list(all=True, filters={"label": f"{c.CLUSTER_LABEL}={cluster_id}"})
    node_agents = [x for x in ours if x.labels.get(c.COMPONENT_LABEL) in (c.KUBELET, c.PROXY)]
    parallel([lambda x=x: remove(x) for x in node_agents])
    parallel([lambda x=x: remove(x) for x in client.containers.list(all=True, filters={"label": POD_UID_LABEL})])
    parallel([
        *(lambda x=x: remove(x) for x in ours if x not in node_agents),
        lambda: host_helper(client, kubernetes_image, ["with-host-iptables", "host-cleanup", str(directory)],
                            {c.HELPER_LABEL: cluster_id}, "clean up the host"),
    ])
    for reaper in client.containers.list(all=True, filters={"label": f"{c.REAPER_LABEL}={cluster_id}"}):
        remove(reaper)
    shutil.rmtree(directory, ignore_errors=True)  # in case the helper could not run


def host_helper(client: docker.DockerClient, image: str, command: list[str], labels: dict[str, str], what: str
                ) -> None:
    """Run one of the kubernetes image's host scripts in a one-shot privileged container."""
    try:
        oneshot.run(client, image, command, privileged=True, pid_mode="host", network_mode="host", labels=labels)
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


def parallel(steps: Iterable[Callable[[], object]]) -> None:
    """Run independent steps at once; re-raise the first failure after all have ended."""
    steps = list(steps)
    if not steps:
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(steps)) as pool:
        futures = [pool.submit(step) for step in steps]
    for future in futures:
        future.result()
