"""Checks, before a cluster starts, that this Docker engine can grant what the kubelet needs.

The kubelet and kube-proxy run in privileged containers with the host's PID and
network namespaces. Some hosts cannot start such a container: a VM or sandbox
whose capability bounding set lacks CAP_SYS_RESOURCE makes runc refuse
(`unable to apply caps`); a rootless engine has no host namespaces to share;
a host that cannot share mounts into the engine's mount namespace would give
pods empty volumes (host-prepare probes it); Podman is not the Docker Engine.
An engine in a VM or on another machine is fine: the cluster reaches its host
only through the engine (cluster/create.py), so engines are judged by what
they can do, not by name. Each problem is reported with what is wrong and how
to fix it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import docker
import docker.errors

from ..common.paths import SETUP_HOST
from ..errors import SingleK8sError
from . import oneshot
from .labels import HELPER_LABEL


class PreflightError(SingleK8sError):
    """This host's Docker engine cannot run the node's components."""


ROOTFUL_HINT = f"use a rootful Docker Engine on Linux (as root on Debian: {SETUP_HOST})"


def check_engine(info: dict[str, Any], version: dict[str, Any]) -> None:
    """What the engine's own description (`docker info` and `docker version`, read once) tells,
    before anything starts: engines that cannot host a kubelet driving them are refused."""
    if any(component.get("Name") == "Podman Engine" for component in version.get("Components") or []):
        raise PreflightError(
            "this engine is Podman's Docker-compatible service: its containers are not Docker's, and cri-dockerd "
            f"needs the Docker Engine itself. Stop Podman's socket and {ROOTFUL_HINT}"
        )
    if any("rootless" in option for option in info.get("SecurityOptions") or []):
        raise PreflightError(
            "this Docker engine runs rootless: the kubelet needs the host's PID and network namespaces and "
            f"privileged containers, which a rootless engine cannot grant; {ROOTFUL_HINT}"
        )


def explain(error: docker.errors.APIError) -> PreflightError:
    """The user's view of an engine refusing a privileged host-namespace container."""
    text = str(error)
    if "apply caps" in text or "operation not permitted" in text:
        return PreflightError(
            "this host cannot start a privileged container (the kubelet and kube-proxy need one): "
            f"{error.explanation or text}. The likely cause is a capability bounding set without "
            "CAP_SYS_RESOURCE (see CapBnd in /proc/self/status), as in some VMs. Fix: run dockerd with the "
            f"runtime wrapper that {SETUP_HOST} installs (it drops that capability and "
            "clamps negative OOM scores before calling runc)"
        )
    return PreflightError(f"this host cannot start a privileged container: {error.explanation or text}")


def unshared_mounts(failure: str) -> PreflightError:
    """host-prepare's probe found that the engine's host cannot share mounts (`failure`: how it ended)."""
    return PreflightError(
        "the engine's host cannot share mounts into the engine's mount namespace (rshared propagation): the kubelet "
        "mounts pods' volumes (Secrets, ConfigMaps, tokens) in its root, and the engine must see them there to "
        "give them to pods. Use an engine whose host can: a Docker Engine on Linux with systemd, in a VM (colima, "
        f"Lima) or not ({ROOTFUL_HINT}).\n{failure}"
    )


def check(client: docker.DockerClient, image: str, runtime: str | None = None) -> None:
    """The whole check, with a throwaway privileged host-namespace container. (A cluster's
    start needs no such container: its first one, the reaper, is checked the same way.)"""
    check_engine(client.info(), client.version())
    try:
        spec = oneshot.on_host(image, ["true"], {HELPER_LABEL: "preflight"})
        oneshot.run(client, dataclasses.replace(spec, runtime=runtime))
    except oneshot.OneShotFailed as error:
        raise PreflightError(f"a privileged helper container failed on this host: {error}") from error
    except docker.errors.APIError as error:
        raise explain(error) from error
