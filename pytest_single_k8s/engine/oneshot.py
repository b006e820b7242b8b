"""Run a one-shot helper container and always remove it, also when it cannot start.

docker-py's `containers.run(remove=True)` leaves the container behind when
starting it fails (a refused capability, a bad runtime); helpers must not.
"""

from __future__ import annotations

from typing import TypedDict

import docker
import docker.errors
import requests.exceptions

from .containers import ContainerSpec, create, remove


class HostNamespaces(TypedDict):
    privileged: bool
    pid_mode: str
    network_mode: str


# What a helper needs to act on the host itself: its PID and network namespaces, privileged.
HOST_NAMESPACES = HostNamespaces(privileged=True, pid_mode="host", network_mode="host")


class OneShotFailed(Exception):
    def __init__(self, exit_code: int, output: str) -> None:
        super().__init__(f"exited {exit_code}: {output.strip()[-2000:]}")
        self.exit_code = exit_code
        self.output = output


def on_host(image: str, command: list[str], labels: dict[str, str], modules: bool = False) -> ContainerSpec:
    """A helper that acts on the host itself (docker picks its name); with `modules`, the host's kernel modules."""
    return ContainerSpec(None, image, command, labels, **HOST_NAMESPACES, modules=modules)


def run(client: docker.DockerClient, spec: ContainerSpec, timeout: float = 120) -> str:
    """Create, start, wait for (at most `timeout` seconds) and remove a container;
    return its output, or raise OneShotFailed."""
    container = create(client, spec)
    try:
        container.start()
        try:
            exit_code = container.wait(timeout=timeout)["StatusCode"]
        except requests.exceptions.RequestException as error:
            raise OneShotFailed(-1, f"no exit within {timeout:.0f}s: {error}") from error
        output = container.logs(stdout=True, stderr=True).decode(errors="replace")
    finally:
        remove(container)
    if exit_code != 0:
        raise OneShotFailed(exit_code, output)
    return output
