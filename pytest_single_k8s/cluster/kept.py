"""What a kept cluster leaves on the engine for the sessions that attach to it later.

STATE    what attaching needs (Cluster.state()), written into the kubectl container once the
         cluster is ready: a kept cluster without it never finished starting. Read through
         the engine, as the cluster's credentials are (credentials.py).

Every session that uses a kept cluster holds a lease on it (engine/lease.py); a session
that wants the engine for other settings deletes it only while none runs (reuse.clear).
Another user's kept cluster can be neither used nor deleted, and that is said.
"""

from __future__ import annotations

import json
from typing import Any

import docker
import docker.errors

from ..engine import ownership
from ..engine.containers import archive, files_in
from .names import KUBECTL, container_name

STATE = "cluster.json"


def write_state(client: docker.DockerClient, cluster_id: str, state: dict[str, Any]) -> None:
    container = client.containers.get(container_name(cluster_id, KUBECTL))
    container.put_archive("/", archive({f"/{STATE}": json.dumps(state).encode()}))


def read_state(client: docker.DockerClient, cluster_id: str) -> dict[str, Any] | None:
    try:
        container = client.containers.get(container_name(cluster_id, KUBECTL))
        return json.loads(files_in(container, f"/{STATE}")[STATE])
    except (docker.errors.NotFound, KeyError, ValueError):
        return None


def not_yours(cluster_id: str, labels: dict[str, str]) -> str:
    """Why this user can neither use nor delete a kept cluster, and what to do."""
    return (
        f"the kept cluster {cluster_id} is {ownership.whose(labels)}'s: you can neither attach to it nor delete "
        "it, and one Docker engine runs one cluster at a time. Ask them to delete it (`pytest-single-k8s down`), "
        "or delete it yourself with `pytest-single-k8s down --all`"
    )


def differences(kept: dict[str, Any], wanted: dict[str, Any]) -> str:
    """What differs between a kept cluster's plan and the one a session asks for, in words."""
    said = []
    if kept.get("version") != wanted["version"]:
        said.append(f"it runs Kubernetes {kept.get('version')}, this session asks for {wanted['version']}")
    elif kept.get("images") != wanted["images"]:
        said.append("its images were built from other inputs (the images were rebuilt since)")
    if kept.get("apiserver_host_port") != wanted["apiserver_host_port"]:
        said.append(f"its apiserver port setting is {kept.get('apiserver_host_port') or 'free'}")
    if kept.get("extra_args") != wanted["extra_args"]:
        said.append(f"its extra arguments are {kept.get('extra_args') or 'none'}")
    if kept.get("addons") != wanted["addons"]:
        said.append(f"its addons are {','.join(kept.get('addons') or []) or 'none'}")
    return "; ".join(said) or "it was laid out by another version of pytest-single-k8s"
