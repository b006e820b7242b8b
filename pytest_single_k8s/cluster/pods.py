"""Which pod containers on the engine are ours, and which belong to another Kubernetes.

cri-dockerd labels every pod container with its pod's UID. Our pods' sandboxes
run our pause image, whose image label every container made from it inherits
(labels.LABEL=pause); a pod is ours when its sandbox is. Another Kubernetes on
the same engine (minikube's none driver, RKE1, a kubelet with cri-dockerd)
makes pod containers from other sandboxes: we never touch those.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker

from ..engine.containers import listed
from ..engine.labels import LABEL, POD_UID_LABEL
from ..errors import ForeignKubernetes

OUR_SANDBOXES = {"label": [f"{LABEL}=pause", POD_UID_LABEL]}  # Docker filters: sandboxes made from our pause image


def split(client: docker.DockerClient) -> tuple[list[Any], list[Any]]:
    """Every pod container on the engine, as (ours, foreign)."""
    our_uids = {x.labels[POD_UID_LABEL] for x in listed(client, OUR_SANDBOXES)}
    every = listed(client, {"label": POD_UID_LABEL})
    ours = [x for x in every if x.labels[POD_UID_LABEL] in our_uids]
    return ours, [x for x in every if x.labels[POD_UID_LABEL] not in our_uids]


NODE_AGENT_PROCESSES = ("kubelet", "kube-proxy", "cri-dockerd")


def node_agent_processes(proc: Path = Path("/proc")) -> list[str]:
    """'NAME (pid N)' for every kubelet, kube-proxy or cri-dockerd process this process can see."""
    found = []
    for comm in proc.glob("[0-9]*/comm"):
        try:
            name = comm.read_text().strip()
        except OSError:  # it ended meanwhile
            continue
        if name in NODE_AGENT_PROCESSES:
            found.append(f"{name} (pid {comm.parent.name})")
    return sorted(found)


def busy_pod_cgroups(cgroups: Path = Path("/sys/fs/cgroup")) -> list[str]:
    """The kubelets' pod cgroups (kubepods, kubepods.slice) that still hold processes: another
    kubelet's pods, whatever runtime it drives (k3s, microk8s and kubeadm nodes on containerd too)."""
    roots = [*cgroups.glob("kubepods"), *cgroups.glob("kubepods.slice"), *cgroups.glob("*/kubepods"),
             *cgroups.glob("*/kubepods.slice")]  # fmt: skip
    busy = []
    for root in roots:
        for procs in root.rglob("cgroup.procs"):
            try:
                if procs.read_text().strip():
                    busy.append(str(procs.parent))
            except OSError:  # gone meanwhile
                continue
    return sorted(busy)


def refuse_foreign(
    client: docker.DockerClient, proc: Path = Path("/proc"), cgroups: Path = Path("/sys/fs/cgroup")
) -> None:
    """ForeignKubernetes if another Kubernetes uses this engine or host; touches nothing.

    Called once we hold the engine lock and have reaped what dead owners left:
    no node agent or pod of ours runs then, so any that runs is another's.
    """
    _, foreign = split(client)
    agents = node_agent_processes(proc)
    in_use = busy_pod_cgroups(cgroups)
    if not foreign and not agents and not in_use:
        return
    seen = [f"pod container {x.name}" for x in foreign[:5]] + agents[:5] + [f"pod cgroup {x}" for x in in_use[:3]]
    raise ForeignKubernetes(
        "another Kubernetes uses this Docker engine or host: "
        + ", ".join(seen)
        + (" and more" if len(foreign) > 5 or len(agents) > 5 or len(in_use) > 3 else "")
        + ". Its kubelet would take our pods for orphans and ours would take its, so pytest-single-k8s "
        "starts nothing here and touches none of it. Stop that Kubernetes (minikube, RKE, k3s, a "
        "kubelet service), use another Docker engine, or point the tests at that cluster instead"
    )
