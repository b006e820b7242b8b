"""The one teardown plan, as data, and its executor.

plan() is the only place that says what goes, in which order. The normal
teardown executes it here; the reaper (images/kubernetes/reaper/main.go) gets
the same plan as JSON when the cluster starts and executes it after a crash;
reaping and `down` execute it for clusters found on the engine.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from ..common.steps import all_of, parallel
from ..engine.containers import listed, remove
from ..engine.labels import CLUSTER_LABEL, COMPONENT_LABEL, HELPER_LABEL, POD_UID_LABEL, REAPER_LABEL
from ..errors import SingleK8sError
from .directory import checked, remove_unmounted
from .host import MODULES, run_script
from .names import NODE_AGENTS
from .pods import OUR_SANDBOXES

Filters = dict[str, list[str]]  # Docker's container filters, e.g. {"label": ["a=b"]}


@dataclass(frozen=True)
class Stage:
    """What one step of the teardown removes, and the host script it runs beside that."""

    remove: tuple[Filters, ...] = ()
    # Every container that shares the value of `pod_label` with a container these filters match:
    # the pods whose sandboxes are ours, and nothing of another Kubernetes.
    pods_of: tuple[Filters, ...] = ()
    pod_label: str = POD_UID_LABEL
    host: tuple[str, ...] = ()  # a host script of the kubernetes image, run in the host's namespaces
    host_timeout: float = 300  # seconds: a hung clean-up must not hold the engine lock forever


def plan(cluster_id: str, directory: Path | None) -> tuple[Stage, ...]:
    """Node agents first (no kubelet may restart a pod, no kube-proxy rewrite rules), then at once
    the pods' containers (those whose sandboxes are ours: pods.OUR_SANDBOXES) and the other
    components (no pod needs them to go), then the host clean-up (iptables, cgroups, mounts,
    the directory; none without a directory that passed directory.checked); the helpers and
    the reaper, which holds the engine, last."""
    ours = f"{CLUSTER_LABEL}={cluster_id}"
    host = ("with-host-iptables", "host-cleanup", str(directory)) if directory else ()
    return (
        Stage(remove=tuple({"label": [ours, f"{COMPONENT_LABEL}={agent}"]} for agent in NODE_AGENTS)),
        Stage(remove=({"label": [ours]},), pods_of=(OUR_SANDBOXES,)),
        Stage(host=host),
        Stage(remove=({"label": [f"{HELPER_LABEL}={cluster_id}"]}, {"label": [f"{REAPER_LABEL}={cluster_id}"]})),
    )


def as_json(stages: tuple[Stage, ...]) -> dict[str, Any]:
    """The plan as the reaper reads it."""
    return {"stages": [dataclasses.asdict(stage) for stage in stages]}


def execute(client: docker.DockerClient, cluster_id: str, directory: str | Path, helper_image: str) -> None:
    """Carry out plan() as the reaper does: stage after stage, each listing what it removes only
    when its turn comes (nothing the kubelet made before it went is missed), its removals at
    once, its host script after them. Every step runs even if an earlier one failed. A
    directory that fails the path check gets no host clean-up: the containers still go, and
    the refusal is raised after."""
    try:
        valid: Path | None = checked(directory)
    except SingleK8sError as error:
        valid, refusal = None, error

    def stage(step: Stage) -> None:
        removals: list[Callable[[], object]] = [
            *(functools.partial(_remove_matching, client, filters) for filters in step.remove),
            *(functools.partial(_remove_pods_of, client, filters, step.pod_label) for filters in step.pods_of),
        ]
        host = [
            functools.partial(
                run_script, client, helper_image, cluster_id, list(step.host), "clean up the host",
                volumes=MODULES, timeout=step.host_timeout,
            )
        ]  # fmt: skip
        all_of([removals, host if step.host else []])

    try:
        all_of([functools.partial(stage, step)] for step in plan(cluster_id, valid))
    finally:
        if valid:
            remove_unmounted(valid)  # in case the helper could not run
    if valid is None:
        raise refusal


def _remove_pods_of(client: docker.DockerClient, filters: Filters, pod_label: str) -> None:
    pods = {x.labels[pod_label] for x in listed(client, filters)}
    parallel(functools.partial(_remove_matching, client, {"label": [f"{pod_label}={pod}"]}) for pod in sorted(pods))


def _remove_matching(client: docker.DockerClient, filters: Filters) -> None:
    parallel(functools.partial(remove, x) for x in listed(client, filters))
