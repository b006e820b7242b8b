"""Run a one-shot helper container and always remove it, also when it cannot start.

docker-py's `containers.run(remove=True)` leaves the container behind when
starting it fails (a refused capability, a bad runtime); helpers must not.
"""

from __future__ import annotations

import docker
import docker.errors
import requests.exceptions


class OneShotFailed(Exception):
    def __init__(self, exit_code: int, output: str) -> None:
        super().__init__(f"exited {exit_code}: {output.strip()[-2000:]}")
        self.exit_code = exit_code
        self.output = output


def run(client: docker.DockerClient, image: str, command: list[str], timeout: float = 120, **options) -> str:
    """Create, start, wait for (at most `timeout` seconds) and remove a container;
    return its output, or raise OneShotFailed."""
    container = client.containers.create(image, command, **options)
    try:
        container.start()
        try:
            exit_code = container.wait(timeout=timeout)["StatusCode"]
        except requests.exceptions.RequestException as error:
            raise OneShotFailed(-1, f"no exit within {timeout:.0f}s: {error}") from error
        output = container.logs(stdout=True, stderr=True).decode(errors="replace")
    finally:
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
    if exit_code != 0:
        raise OneShotFailed(exit_code, output)
    return output


def run_on_host(client: docker.DockerClient, image: str, command: list[str], labels: dict[str, str],
                **options) -> str:
    """A one-shot helper that acts on the host itself: privileged, in its PID and network namespaces."""
    return run(client, image, command, privileged=True, pid_mode="host", network_mode="host", labels=labels, **options)
