"""The engine lock: one cluster per Docker engine at a time.

Two kubelets on one engine would treat each other's pods as orphans. The lock
is the reaper container's fixed name (labels.REAPER_NAME): Docker refuses a
second container of that name, so claiming is atomic, and the lock is released
when the reaper goes with its cluster.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import docker
import docker.errors

from ..common.progress import Status
from ..common.waiting import WaitTimeout, wait_for
from ..errors import EngineBusy, SingleK8sError
from . import ownership
from .containers import ContainerSpec, NameTaken, create_named, listed, remove
from .labels import CLUSTER_LABEL, KEPT_LABEL, OWNER_LABEL, REAPER_LABEL, REAPER_NAME

T = TypeVar("T")
CLAIM_GRACE = datetime.timedelta(seconds=60)  # a claim is followed by a start within milliseconds


def claim(client: docker.DockerClient, reaper: ContainerSpec) -> Any:
    """Create the reaper under the engine-wide name; EngineBusy if another cluster holds it.
    Creating reserves the name at once; the caller starts it."""
    try:
        return create_named(client, reaper)
    except NameTaken as error:
        raise EngineBusy(f"{REAPER_NAME} exists: another cluster runs on this Docker engine") from error


def watching(reaper: Any) -> bool:
    """Whether a reaper watches its cluster's sessions: it runs, or it was claimed a moment ago and
    is about to start. (A running reaper whose sessions all ended is reaping right now.)"""
    if reaper.status == "running":
        return True
    created = datetime.datetime.fromisoformat(reaper.attrs["Created"])
    return reaper.status == "created" and datetime.datetime.now(datetime.UTC) - created < CLAIM_GRACE


def watched(client: docker.DockerClient) -> set[str]:
    """The ids of the clusters whose reaper watches (see watching)."""
    return {reaper.labels[REAPER_LABEL] for reaper in listed(client, {"label": REAPER_LABEL}) if watching(reaper)}


def remove_stale(client: docker.DockerClient) -> None:
    """Take the lock away from a claimer that died before starting its reaper (or whose reaper
    exited): remove that very container, so that the next claim, which is atomic, decides who
    holds the engine. Its cluster, abandoned then, is reaped by the session that claims."""
    try:
        reaper = client.containers.get(REAPER_NAME)
    except docker.errors.NotFound:
        return
    if not watching(reaper):
        remove(reaper)


@contextlib.contextmanager
def held(client: docker.DockerClient, image: str, holder_id: str) -> Iterator[bool]:
    """Hold the engine for a clean-up under `holder_id`, with a lock container that never runs;
    yields False (holding nothing) while a cluster holds it."""
    try:
        container = claim(client, ContainerSpec(REAPER_NAME, image, ["true"], {REAPER_LABEL: holder_id}))
    except EngineBusy:
        yield False
        return
    try:
        yield True
    finally:
        remove(container)


def holder(client: docker.DockerClient) -> str | None:
    """The id of the cluster that holds the engine (its reaper's label), or None when it is free."""
    try:
        return client.containers.get(REAPER_NAME).labels.get(REAPER_LABEL, "")
    except docker.errors.NotFound:
        return None


def clusters(client: docker.DockerClient) -> dict[str, dict[str, str]]:
    """Every cluster id on the engine with the labels of one of its containers (owner, directory)."""
    found: dict[str, dict[str, str]] = {}
    for label in (REAPER_LABEL, CLUSTER_LABEL):
        for container in listed(client, {"label": label}):
            found.setdefault(container.labels[label], container.labels)
    return found


def wait_for_engine(client: docker.DockerClient, status: Status, timeout: float, attempt: Callable[[], T]) -> T:
    """Run `attempt` (attach or claim) until it does not raise EngineBusy, saying whose cluster we
    wait for; return what it returns. After `timeout` seconds, fail saying what to do."""
    try:
        return attempt()
    except EngineBusy:
        pass
    description = ", ".join(f"{cid} ({whose(labels)})" for cid, labels in clusters(client).items()) or "(ending now)"
    with status.step(f"Waiting for the cluster of another session on this Docker engine to end: {description}"):
        try:
            return wait_for(
                attempt, "the other session's cluster to end", timeout, interval=1.0, retry_on=(EngineBusy,)
            )
        except WaitTimeout as error:
            raise SingleK8sError(
                f"another session's cluster still runs on this Docker engine after {timeout:.0f}s "
                f"({error.__cause__}): {description}. "
                "One engine runs one cluster at a time; wait for that session, or end it "
                "(its cluster is removed within seconds of its end), or raise k8s_wait_timeout. "
                "A kept cluster stays until it is deleted: `pytest-single-k8s down` (`down --all` if it is "
                "another user's)"
            ) from error


def whose(labels: dict[str, str]) -> str:
    """Whose a cluster is, in words, from the labels of one of its containers."""
    held = "kept" if KEPT_LABEL in labels else f"owner {labels.get(OWNER_LABEL, '?')}"
    return f"{ownership.whose(labels)}, {held}"
