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
from pathlib import Path
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


def attach_or_clear(
    client: docker.DockerClient, wanted: ClusterPlan, status: Status, ready_timeout: float
) -> Cluster | None:
    """The kept cluster if it has the settings of `wanted` and serves; else delete it (None)."""
    found = kept_cluster(client)
    if found is None:
        return None
    started = time.monotonic()
    cluster_id, labels = found
    place = directory.checked(labels[DIRECTORY_LABEL])
    state = kept.read_state(place)
    if state is None:
        reason = "it never finished starting"
    elif labels[KEPT_LABEL] != wanted.fingerprint():
        reason = kept.differences(state["plan"], _as_json(wanted))
    else:
        cluster = Cluster.attach(client, state, status, ready_timeout)
        problem = cluster.readiness().problem()
        if problem is None:
            cluster.created_clock = started
            cluster.timings["attached"] = time.monotonic() - started
            status.info(
                f" ✓ Attached to the kept cluster {cluster_id} (Kubernetes {cluster.plan.version}, {cluster.server}) "
                f"in {cluster.timings['attached']:.2f}s"
            )
            return cluster
        cluster.users.release()
        reason = f"it does not serve ({problem})"
    clear(client, cluster_id, labels, place, reason, status)
    return None


def clear(
    client: docker.DockerClient, cluster_id: str, labels: dict[str, str], place: Path, reason: str, status: Status
) -> None:
    """Delete a kept cluster that no session uses (EngineBusy while one does)."""
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
