"""The kept cluster on the engine: attach to it, or clear it out of the way.

A session looks for a kept cluster before it claims the engine. One with the same
settings (ClusterPlan.fingerprint) that serves at once is attached: nothing is
restarted. One with other settings, or unfinished, or broken, is deleted, with
the reason said, once no session uses it (kept.Users); while one does, EngineBusy
makes the session wait as for any other session's cluster.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import docker

from ..common.progress import Status
from ..engine import lock
from ..engine.labels import DIRECTORY_LABEL, KEPT_LABEL
from . import directory, kept, reaping
from .handle import Cluster
from .plan import ClusterPlan


def kept_cluster(client: docker.DockerClient) -> tuple[str, dict[str, str]] | None:
    """The kept cluster on the engine (id and labels), if there is one."""
    return next(((cid, labels) for cid, labels in lock.clusters(client).items() if KEPT_LABEL in labels), None)


def attach(client: docker.DockerClient, wanted: ClusterPlan, status: Status, ready_timeout: float) -> Cluster | None:
    """The kept cluster if it has the settings of `wanted` and serves (held: kept.Users), else None."""
    found = kept_cluster(client)
    if found is None:
        return None
    started = time.monotonic()
    cluster_id, labels = found
    state = kept.read_state(directory.checked(labels[DIRECTORY_LABEL]))
    if state is None or labels[KEPT_LABEL] != wanted.fingerprint():
        return None
    cluster = Cluster.attach(client, state, status, ready_timeout)
    if cluster.readiness().problem() is not None:
        cluster.users.release()
        return None
    cluster.created_clock = started
    cluster.timings["attached"] = time.monotonic() - started
    status.info(
        f" ✓ Attached to the kept cluster {cluster_id} (Kubernetes {cluster.plan.version}, {cluster.server}) "
        f"in {cluster.timings['attached']:.2f}s"
    )
    return cluster


def clear(client: docker.DockerClient, wanted: ClusterPlan, status: Status) -> None:
    """Delete the kept cluster that `attach` did not take, saying why, once no session uses it
    (EngineBusy while one does); it holds the engine, so its clean-up runs under its own lock."""
    found = kept_cluster(client)
    if found is None:
        return
    cluster_id, labels = found
    place = directory.checked(labels[DIRECTORY_LABEL])
    state = kept.read_state(place)
    if state is None:
        reason = "it never finished starting"
    elif labels[KEPT_LABEL] != wanted.fingerprint():
        reason = kept.differences(state["plan"], _as_json(wanted))
    else:
        broken = Cluster.attach(client, state, status)
        broken.users.release()
        reason = f"it does not serve ({broken.readiness().problem() or 'it did a moment ago'})"
    users = kept.Users(place)
    if place.is_dir():
        users.take()
    try:
        with status.step(f"Deleting the kept cluster {cluster_id}, not attached: {reason}"):
            reaping.delete(client, cluster_id, labels)
    finally:
        users.release()


def _as_json(plan: ClusterPlan) -> dict[str, Any]:
    """The plan as a state file holds it (tuples as lists, paths as text), to compare with one."""
    return json.loads(json.dumps(dataclasses.asdict(plan), default=str))
