"""Which pod containers on the engine are ours, which are one cluster's, and which belong to
another Kubernetes.

cri-dockerd labels every pod container with its pod's UID. Our pods' sandboxes run
our pause image, whose labels every container made from it inherits (labels.LABEL=pause):
a pod is ours when its sandbox is. Each cluster runs its sandboxes from an image of its
own (plan.sandbox_image) that adds its id (CLUSTER_LABEL), so that a teardown removes
its own cluster's pods and never another's. Another Kubernetes on the same engine
(minikube's none driver, RKE1, a kubelet with cri-dockerd) makes pod containers from
other sandboxes: we never touch those. Its node agents and pod cgroups on the engine's
host are looked for by host-prepare, before anything of ours touches the host.
"""

from __future__ import annotations

from typing import Any

import docker

from ..engine.containers import listed
from ..engine.labels import CLUSTER_LABEL, LABEL, POD_UID_LABEL
from ..errors import ForeignKubernetes

OUR_SANDBOXES = {"label": [f"{LABEL}=pause", POD_UID_LABEL]}  # Docker filters: sandboxes made from our pause image


def sandboxes(cluster_id: str) -> dict[str, list[str]]:
    """Docker filters for the sandboxes of one cluster."""
    return {"label": [f"{CLUSTER_LABEL}={cluster_id}", POD_UID_LABEL]}


def split(client: docker.DockerClient) -> tuple[list[Any], list[Any]]:
    """Every pod container on the engine, as (ours, foreign)."""
    our_uids = {x.labels[POD_UID_LABEL] for x in listed(client, OUR_SANDBOXES)}
    every = listed(client, {"label": POD_UID_LABEL})
    ours = [x for x in every if x.labels[POD_UID_LABEL] in our_uids]
    return ours, [x for x in every if x.labels[POD_UID_LABEL] not in our_uids]


def refuse_foreign(client: docker.DockerClient) -> None:
    """ForeignKubernetes if another Kubernetes runs pods on this engine; touches nothing.

    Called once we hold the engine lock and have reaped what dead owners left:
    no pod of ours runs then, so any pod that runs is another's.
    """
    _, foreign = split(client)
    if not foreign:
        return
    raise ForeignKubernetes(
        "another Kubernetes uses this Docker engine: "
        + ", ".join(f"pod container {x.name}" for x in foreign[:5])
        + (" and more" if len(foreign) > 5 else "")
        + f". {FOREIGN_ADVICE}"
    )


FOREIGN_ADVICE = (
    "Its kubelet would take our pods for orphans and ours would take its, so pytest-single-k8s starts nothing "
    "here and touches none of it. Stop that Kubernetes (minikube, RKE, k3s, a kubelet service), use another "
    "Docker engine, or point the tests at that cluster instead"
)
