"""The engine lock: one cluster per Docker engine at a time.

Two kubelets on one engine would treat each other's pods as orphans. The lock
is the reaper container's fixed name (labels.REAPER_NAME): Docker refuses a
second container of that name, so claiming is atomic, and the lock is released
when the reaper goes with its cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker
import docker.errors

from ..common.progress import Status
from ..common.waiting import WaitTimeout, wait_for
from ..errors import EngineBusy, SingleK8sError
from . import ownership
from .containers import ContainerSpec, create, listed
from .labels import CLUSTER_LABEL, KEPT_LABEL, OWNER_LABEL, REAPER_LABEL, REAPER_NAME


def claim(client: docker.DockerClient, reaper: ContainerSpec) -> Any:
    """Create the reaper under the engine-wide name; EngineBusy if another cluster holds it.
    Creating reserves the name at once; the caller starts it."""
    try:
        return create(client, reaper)
    except docker.errors.APIError as error:
        if error.status_code == 409:
            raise EngineBusy(f"{REAPER_NAME} exists: another cluster runs on this Docker engine") from error
        raise


def clusters(client: docker.DockerClient) -> dict[str, dict[str, str]]:
    """Every cluster id on the engine with the labels of one of its containers (owner, directory)."""
    found: dict[str, dict[str, str]] = {}
    for label in (REAPER_LABEL, CLUSTER_LABEL):
        for container in listed(client, {"label": label}):
            found.setdefault(container.labels[label], container.labels)
    return found


def wait_for_engine(client: docker.DockerClient, status: Status, timeout: float, attempt: Callable[[], None]) -> None:
    """Run `attempt` (reap what dead owners left, then claim) until it does not raise EngineBusy,
    saying whose cluster we wait for; after `timeout` seconds, fail saying what to do."""
    try:
        attempt()
        return
    except EngineBusy:
        pass
    description = ", ".join(f"{cid} ({whose(labels)})" for cid, labels in clusters(client).items()) or "(ending now)"
    with status.step(f"Waiting for the cluster of another session on this Docker engine to end: {description}"):
        try:
            wait_for(attempt, "the other session's cluster to end", timeout, interval=1.0, retry_on=(EngineBusy,))
        except WaitTimeout as error:
            raise SingleK8sError(
                f"another session's cluster still runs on this Docker engine after {timeout:.0f}s "
                f"({error.__cause__}): {description}. "
                "One engine runs one cluster at a time; wait for that session, or end it "
                "(its cluster is removed within seconds of its end), or raise k8s_wait_timeout. "
                "If its owner ran elsewhere (another PID namespace or host) and is gone: "
                "`pytest-single-k8s down` (`down --all` if it is another user's)"
            ) from error


def whose(labels: dict[str, str]) -> str:
    """Whose a cluster is, in words, from the labels of one of its containers."""
    held = "kept" if KEPT_LABEL in labels else f"owner {labels.get(OWNER_LABEL, '?')}"
    return f"{ownership.whose(labels)}, {held}"
