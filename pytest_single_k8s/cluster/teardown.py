"""The one teardown plan, as data, and its executor.

plan() is the only place that says what goes, in which order. The normal
teardown executes it here; the reaper (images/kubernetes/reaper/main.go) gets
the same plan as JSON when the cluster starts and executes it after a crash;
reaping and `down` execute it for clusters found on the engine.
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from ..common.steps import all_of, parallel
from ..engine.containers import remove
from ..engine.labels import CLUSTER_LABEL, COMPONENT_LABEL, POD_UID_LABEL, REAPER_LABEL
from .directory import checked
from .host import run_script
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


def plan(cluster_id: str, directory: str | Path) -> tuple[Stage, ...]:
    """Node agents first (no kubelet may restart a pod, no kube-proxy rewrite rules), then the
    pods' containers (those whose sandboxes are ours: pods.OUR_SANDBOXES), then the other
    components and, at once, the host clean-up (iptables, cgroups, mounts, the directory);
    the reaper, which holds the engine, last."""
    ours = f"{CLUSTER_LABEL}={cluster_id}"
    return (
        Stage(remove=tuple({"label": [ours, f"{COMPONENT_LABEL}={agent}"]} for agent in NODE_AGENTS)),
        Stage(pods_of=(OUR_SANDBOXES,)),
        Stage(remove=({"label": [ours]},), host=("with-host-iptables", "host-cleanup", str(checked(directory)))),
        Stage(remove=({"label": [f"{REAPER_LABEL}={cluster_id}"]},)),
    )


def as_json(stages: tuple[Stage, ...]) -> dict[str, Any]:
    """The plan as the reaper reads it."""
    return {"stages": [dataclasses.asdict(stage) for stage in stages]}


def execute(client: docker.DockerClient, cluster_id: str, directory: str | Path, helper_image: str) -> None:
    """Carry out plan(): each stage lists what it removes only when its turn comes, so nothing
    the kubelet made before it went is missed. Every stage runs even if an earlier one failed."""
    directory = checked(directory)

    def steps(stage: Stage) -> list[Callable[[], object]]:
        removals: list[Callable[[], object]] = [
            *(functools.partial(_remove_matching, client, filters) for filters in stage.remove),
            *(functools.partial(_remove_pods_of, client, filters, stage.pod_label) for filters in stage.pods_of),
        ]
        host = [functools.partial(run_script, client, helper_image, cluster_id, list(stage.host), "clean up the host")]
        return removals + (host if stage.host else [])

    try:
        all_of(steps(stage) for stage in plan(cluster_id, directory))
    finally:
        shutil.rmtree(directory, ignore_errors=True)  # in case the helper could not run


def _remove_pods_of(client: docker.DockerClient, filters: Filters, pod_label: str) -> None:
    pods = {x.labels[pod_label] for x in client.containers.list(all=True, filters=filters)}
    parallel(functools.partial(_remove_matching, client, {"label": [f"{pod_label}={pod}"]}) for pod in sorted(pods))


def _remove_matching(client: docker.DockerClient, filters: Filters) -> None:
    parallel(functools.partial(remove, x) for x in client.containers.list(all=True, filters=filters))
