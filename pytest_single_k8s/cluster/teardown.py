"""The one teardown plan, as data, and its executor.

plan() is the only place that says what goes, in which order. The normal
teardown executes it here; the reaper (images/kubernetes/reaper/main.go) gets
the same plan as JSON when the cluster starts and executes it after a crash;
reaping and `down` execute it for clusters found on the engine.

A teardown that leaves something on the host does not lose track of it: before
the last stage releases the engine, a record container with the cluster's
labels is made (never started), so that `down` and the next session's reaping
find the cluster and try again.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

from ..common.steps import all_of, parallel
from ..engine import lock
from ..engine.containers import ContainerSpec, NameTaken, create_named, listed, remove
from ..engine.labels import (
    CLUSTER_LABEL,
    COMPONENT_LABEL,
    DIRECTORY_LABEL,
    HELPER_LABEL,
    LEASE_LABEL,
    OWNER_LABEL,
    POD_LOG_LABEL,
    POD_UID_LABEL,
    REAPER_LABEL,
    USER_LABEL,
)
from ..errors import SingleK8sError
from .directory import POD_LOGS, checked
from .host import run_script
from .names import NODE_AGENTS, RECORD, container_name
from .pods import sandboxes

Filters = dict[str, list[str]]  # Docker's container filters, e.g. {"label": ["a=b"]}
RECORDED = (OWNER_LABEL, USER_LABEL)  # the labels of a cluster that its record keeps: whose it was


@dataclass(frozen=True)
class Stage:
    """What one step of the teardown removes, and the host script it runs after that."""

    remove: tuple[Filters, ...] = ()
    # Every container that shares the value of `pod_label` with a container these filters match:
    # the pods whose sandboxes are this cluster's, and nothing of another Kubernetes.
    pods_of: tuple[Filters, ...] = ()
    pod_label: str = POD_UID_LABEL
    # Every container whose `log_label` names a file below one of these directories: a pod's containers
    # whose sandbox went first (the kubelet, stopped while it removed a pod, can leave them so).
    logs_under: tuple[str, ...] = ()
    log_label: str = POD_LOG_LABEL
    images: tuple[Filters, ...] = ()  # images to remove once the stage's containers are gone
    host: tuple[str, ...] = ()  # a host script of the kubernetes image, run in the host's namespaces
    # The host script changes what the whole host shares (iptables, pod cgroups, netfilter settings), so it
    # runs as written only while this cluster id holds the engine lock (lock.holder); otherwise
    # `host_not_holding` runs instead, and the stage fails saying what it left for a later clean-up.
    holding: str = ""
    host_not_holding: tuple[str, ...] = ()
    host_timeout: float = 300  # seconds: a hung clean-up must not hold the engine lock forever
    # It removes the reaper, which holds the engine: if an earlier stage failed, the cluster's record is
    # made before it (record()), so that what was left stays findable.
    releases_engine: bool = False


def plan(cluster_id: str, directory: Path | None, holding: str = "") -> tuple[Stage, ...]:
    """Node agents first (no kubelet may restart a pod, no kube-proxy rewrite rules), then at once
    the pods' containers (those whose sandboxes are this cluster's: pods.sandboxes) and the other
    components (no pod needs them to go), and the cluster's sandbox image; then the host clean-up
    (iptables, cgroups and netfilter while `holding` (default: this cluster) holds the engine; mounts
    and the directory in any case; none without a directory that passed directory.checked); then
    the helpers and the reaper, which releases the engine; last the sessions' leases (after the
    reaper, which would take their end for a crash and tear the cluster down too)."""
    ours = f"{CLUSTER_LABEL}={cluster_id}"
    cleanup = ("with-host-iptables", "host-cleanup", str(directory), cluster_id)
    return (
        Stage(remove=tuple({"label": [ours, f"{COMPONENT_LABEL}={agent}"]} for agent in NODE_AGENTS)),
        Stage(
            remove=({"label": [ours]},),
            pods_of=(sandboxes(cluster_id),),
            logs_under=(str(directory / POD_LOGS),) if directory else (),
            images=({"label": [ours]},),
        ),
        Stage(
            host=cleanup if directory else (),
            holding=holding or cluster_id,
            host_not_holding=(*cleanup, "--directory-only") if directory else (),
        ),
        Stage(
            remove=({"label": [f"{HELPER_LABEL}={cluster_id}"]}, {"label": [f"{REAPER_LABEL}={cluster_id}"]}),
            releases_engine=True,
        ),
        Stage(remove=({"label": [f"{LEASE_LABEL}={cluster_id}"]},)),
    )


def record(cluster_id: str, directory: str | Path, image: str, labels: dict[str, str]) -> ContainerSpec:
    """The container that keeps a cluster findable after a teardown that left something: the
    cluster's labels (whose it was: RECORDED, from `labels`), never started."""
    kept = {key: labels[key] for key in RECORDED if key in labels}
    own = {CLUSTER_LABEL: cluster_id, COMPONENT_LABEL: RECORD, DIRECTORY_LABEL: str(directory)}
    return ContainerSpec(container_name(cluster_id, RECORD), image, ["true"], {**kept, **own})


def as_json(stages: tuple[Stage, ...], leftovers: ContainerSpec) -> dict[str, Any]:
    """The plan as the reaper reads it."""
    spec = {"name": leftovers.name, "image": leftovers.image, "labels": leftovers.labels, "command": leftovers.command}
    return {"stages": [dataclasses.asdict(stage) for stage in stages], "record": spec}


class TeardownIncomplete(SingleK8sError):
    """A teardown left something on the host; the cluster's record says where to find it."""


def execute(
    client: docker.DockerClient,
    cluster_id: str,
    directory: str | Path,
    helper_image: str,
    labels: dict[str, str] | None = None,
    holding: str = "",
) -> None:
    """Carry out plan() as the reaper does: stage after stage, each listing what it removes only
    when its turn comes (nothing the kubelet made before it went is missed), its removals at
    once, its host script after them. Every step runs even if an earlier one failed; if one
    did, or Ctrl-C came, the record (record()) is made before the engine is released, and the
    failure raised. A directory that fails the path check gets no host clean-up: the containers
    still go, and the refusal is raised after."""
    try:
        valid: Path | None = checked(directory)
    except SingleK8sError as error:
        valid, refusal = None, error
    stages = plan(cluster_id, valid, holding)
    release = next(index for index, step in enumerate(stages) if step.releases_engine)

    def stage(step: Stage) -> None:
        removals: list[Callable[[], object]] = [
            *(functools.partial(_remove_matching, client, filters) for filters in step.remove),
            *(functools.partial(_remove_pods_of, client, filters, step.pod_label) for filters in step.pods_of),
            *(functools.partial(_remove_logged_under, client, folder, step.log_label) for folder in step.logs_under),
        ]
        after = [functools.partial(_remove_images, client, filters) for filters in step.images]
        if step.host:
            after.append(functools.partial(_host, client, step, helper_image, cluster_id))
        all_of([removals, after])

    failure: BaseException | None = None
    try:
        all_of([functools.partial(stage, step)] for step in stages[:release])
    except BaseException as error:  # a failed step (every step ran), or Ctrl-C (the rest is left to a next try)
        _record(client, record(cluster_id, directory, helper_image, labels or {}))
        failure = error
    all_of([functools.partial(stage, step)] for step in stages[release:])
    if isinstance(failure, Exception):
        raise TeardownIncomplete(
            f"the clean-up of cluster {cluster_id} left something behind: {failure}. The cluster stays listed on "
            "this engine: the next session, or `pytest-single-k8s down`, tries again"
        ) from failure
    if failure is not None:
        raise failure
    if valid is None:
        raise refusal


def _host(client: docker.DockerClient, step: Stage, image: str, cluster_id: str) -> None:
    """The stage's host script, host-wide only while `step.holding` holds the engine."""
    held_by = lock.holder(client) if step.holding else ""
    command = step.host if held_by == step.holding else step.host_not_holding
    run_script(client, image, cluster_id, list(command), "clean up the host", timeout=step.host_timeout)
    if command != step.host:
        raise SingleK8sError(
            "the host-wide clean-up (iptables chains, pod cgroups, netfilter settings) was left alone: "
            f"the engine is held by {f'cluster {held_by}' if held_by else 'no cluster'}, not {step.holding}"
        )


def _record(client: docker.DockerClient, spec: ContainerSpec) -> None:
    try:
        create_named(client, spec)
    except NameTaken:  # one from an earlier attempt is as good
        pass


def _remove_pods_of(client: docker.DockerClient, filters: Filters, pod_label: str) -> None:
    pods = {x.labels[pod_label] for x in listed(client, filters)}
    parallel(functools.partial(_remove_matching, client, {"label": [f"{pod_label}={pod}"]}) for pod in sorted(pods))


def _remove_logged_under(client: docker.DockerClient, folder: str, log_label: str) -> None:
    logged = [x for x in listed(client, {"label": log_label}) if x.labels[log_label].startswith(f"{folder}/")]
    parallel(functools.partial(remove, x) for x in logged)


def _remove_matching(client: docker.DockerClient, filters: Filters) -> None:
    parallel(functools.partial(remove, x) for x in listed(client, filters))


def _remove_images(client: docker.DockerClient, filters: Filters) -> None:
    for image in client.images.list(filters=filters):
        try:
            client.images.remove(image.id)
        except docker.errors.ImageNotFound:
            pass
