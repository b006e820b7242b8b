"""Before a cluster starts: remove what dead owners left, and wait for live ones.

One Docker engine runs one cluster at a time (two kubelets on one engine would
treat each other's pods as orphans). A cluster whose owner process has died
(SIGKILL, a crash, a machine that went down mid-run) is deleted here, at the
latest, if its own reaper container has not done it within seconds. A cluster
whose owner lives is waited for, with a message, until its session ends.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors
import requests.exceptions

from . import components as c
from . import ownership
from .errors import EngineBusy, SingleK8sError
from .progress import Status
from .teardown import delete_cluster
from .waiting import WaitTimeout, wait_for


def clusters_on_engine(client: docker.DockerClient) -> dict[str, dict[str, str]]:
    """Every cluster id on the engine with the labels of one of its containers (owner, directory, image)."""
    found: dict[str, dict[str, str]] = {}
    for label in (c.CLUSTER_LABEL, c.REAPER_LABEL):
        for container in client.containers.list(all=True, filters={"label": label}):
            labels = {**container.labels, "image": container.attrs["Config"]["Image"]}
            found.setdefault(container.labels[label], labels)
    return found


def reap_abandoned(client: docker.DockerClient, status: Status, kubernetes_image: str) -> list[str]:
    """Delete every cluster whose owner has certainly ended; return their ids.

    The clean-up runs with the caller's kubernetes image: the dead cluster's own
    may have been removed since.
    """
    reaped = []
    for cluster_id, labels in clusters_on_engine(client).items():
        owner = labels.get(c.OWNER_LABEL, "")
        if not ownership.is_gone(owner):
            continue
        with status.step(f"Removing cluster {cluster_id}, left by process {owner} that ended"):
            for reaper in client.containers.list(filters={"label": f"{c.REAPER_LABEL}={cluster_id}"}):
                try:  # its reaper is at work: let it finish rather than race it
                    reaper.wait(timeout=60)
                except (docker.errors.NotFound, requests.exceptions.RequestException):
                    pass
            delete_cluster(client, cluster_id, Path(labels.get(c.DIRECTORY_LABEL, "/nonexistent")), kubernetes_image)
        reaped.append(cluster_id)
    return reaped


def wait_for_engine(client: docker.DockerClient, status: Status, timeout: float, claim: Callable[[], None],
                    kubernetes_image: str) -> None:
    """Reap what dead owners left, then claim the engine, waiting while another live session holds it.

    `claim` raises EngineBusy while the engine is taken; claiming is atomic
    (a container name), so two sessions never both get it.
    """
    def attempt() -> None:
        reap_abandoned(client, status, kubernetes_image)
        claim()

    try:
        attempt()
        return
    except EngineBusy:
        pass
    description = ", ".join(f"{cid} (owner {labels.get(c.OWNER_LABEL, '?')})"
                            for cid, labels in clusters_on_engine(client).items()) or "(ending now)"
    with status.step(f"Waiting for the cluster of another session on this Docker engine to end: {description}"):
        try:
            wait_for(attempt, "the other session's cluster to end", timeout, interval=1.0, retry_on=(EngineBusy,))
        except WaitTimeout as error:
            raise SingleK8sError(
                f"another session's cluster still runs on this Docker engine after {timeout:.0f}s: {description}. "
                "One engine runs one cluster at a time; wait for that session, or end it "
                "(its cluster is removed within seconds of its end), or raise k8s_wait_timeout. "
                "If its owner ran elsewhere (another PID namespace or host) and is gone: "
                "`python -m pytest_single_k8s down`"
            ) from error


def delete_all(client: docker.DockerClient, status: Status, kubernetes_image: str) -> list[str]:
    """Delete every cluster on this engine, whoever owns it; return their ids."""
    clusters = clusters_on_engine(client)
    for cluster_id, labels in clusters.items():
        with status.step(f"Deleting cluster {cluster_id} (owner {labels.get(c.OWNER_LABEL, '?')})"):
            delete_cluster(client, cluster_id, Path(labels.get(c.DIRECTORY_LABEL, "/nonexistent")), kubernetes_image)
    return list(clusters)
