"""The kept cluster on the engine: attach to it, or clear it out of the way.

A session looks for a kept cluster before it claims the engine. One with the same
settings (ClusterPlan.fingerprint) that serves at once is attached: nothing is
restarted, and the session holds a lease on it (engine/lease.py) for its whole
length. One with other settings, or unfinished, or broken, is deleted, with the
reason said, once no session holds a lease on it; while one does, EngineBusy makes
the session wait as for any other session's cluster. Another user's is theirs.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import docker

from ..common.progress import Status
from ..common.steps import parallel
from ..engine import lease, lock, ownership
from ..engine.containers import NameTaken, listed
from ..engine.labels import DELETING_LABEL, KEPT_LABEL
from ..errors import EngineBusy, SingleK8sError
from . import kept, reaping
from .handle import Cluster
from .names import DELETING, container_name
from .plan import ClusterPlan


def kept_cluster(client: docker.DockerClient) -> tuple[str, dict[str, str]] | None:
    """The kept cluster on the engine (id and labels), if there is one."""
    return next(((cid, labels) for cid, labels in lock.clusters(client).items() if KEPT_LABEL in labels), None)


def attach_or_clear(
    client: docker.DockerClient, wanted: ClusterPlan, status: Status, ready_timeout: float
) -> Cluster | None:
    """The kept cluster, attached and held by a lease of this session, if it has the settings of `wanted`
    and serves; else, once no session holds a lease on it, deleted, with the reason said (EngineBusy while
    one does), and None. Another user's kept cluster is theirs: that is said instead."""
    found = kept_cluster(client)
    if found is None:
        return None
    started = time.monotonic()
    cluster_id, labels = found
    if not ownership.is_mine(labels):
        raise SingleK8sError(kept.not_yours(cluster_id, labels))
    state = kept.read_state(client, cluster_id)
    if state is None:
        reason = "it never finished starting"
    elif labels[KEPT_LABEL] != wanted.fingerprint():
        reason = kept.differences(state["plan"], _as_json(wanted))
    else:
        cluster = Cluster.from_state(client, state, status, ready_timeout)
        problem = _attach(client, cluster)
        if problem is None:
            cluster.created_clock = started
            cluster.timings["attached"] = time.monotonic() - started
            status.info(
                f" ✓ Attached to the kept cluster {cluster_id} (Kubernetes {cluster.plan.version}, {cluster.server}) "
                f"in {cluster.timings['attached']:.2f}s"
            )
            return cluster
        reason = f"it does not serve ({problem})"
    _clear(client, cluster_id, labels, reason, status)
    return None


def _attach(client: docker.DockerClient, cluster: Cluster) -> str | None:
    """Hold the cluster with a lease of this session; why it cannot be used (then not held), or None. The
    lease is taken before the look for a deletion's mark, and a deleting session takes its mark before it
    looks at the leases: one of the two always sees the other."""

    def held() -> str | None:
        cluster.hold()
        return "another session deletes it" if _being_deleted(client, cluster.plan.cluster_id) else None

    try:
        problems = parallel([held, cluster.readiness().problem])
    except BaseException:
        cluster.release()
        raise
    problem = next((problem for problem in problems if problem is not None), None)
    if problem is not None:
        cluster.release()
    return problem


def _clear(client: docker.DockerClient, cluster_id: str, labels: dict[str, str], reason: str, status: Status) -> None:
    """Delete the kept cluster once no session holds a lease on it; its reaper holds the engine, so its
    clean-up runs under its own lock. The session that deletes it holds a named lease that says so for
    as long as it does (and no longer, should it die)."""
    image = reaping.helper_image(client, cluster_id)
    try:
        mark = lease.take(client, image, {DELETING_LABEL: cluster_id}, container_name(cluster_id, DELETING))
    except NameTaken:
        raise EngineBusy(f"the kept cluster {cluster_id} is being deleted by another session") from None
    try:
        if lease.holders(client, cluster_id):
            raise EngineBusy(f"the kept cluster {cluster_id} is in use by another session")
        with status.step(f"Deleting the kept cluster {cluster_id}, not attached: {reason}"):
            reaping.delete(client, cluster_id, labels, image=image)
    finally:
        mark.release()


def _being_deleted(client: docker.DockerClient, cluster_id: str) -> bool:
    return bool(listed(client, {"label": f"{DELETING_LABEL}={cluster_id}", "status": "running"}))


def _as_json(plan: ClusterPlan) -> dict[str, Any]:
    """The plan as a state file holds it (tuples as lists, paths as text), to compare with one."""
    return json.loads(json.dumps(dataclasses.asdict(plan), default=str))
