"""Run a one-shot helper container and always remove it, also when it cannot start.

docker-py's `containers.run(remove=True)` leaves the container behind when
starting it fails (a refused capability, a bad runtime); helpers must not.
"""

from __future__ import annotations

import docker
import docker.errors


class OneShotFailed(Exception):
    def __init__(self, exit_code: int, output: str) -> None:
        super().__init__(f"exited {exit_code}: {output.strip()[-2000:]}")
        self.exit_code = exit_code
        self.output = output


def run(client: docker.DockerClient, image: str, command: list[str], **options) -> str:
    """Create, start, wait for and remove a container; return its output, or raise OneShotFailed."""
    container = client.containers.create(image, command, **options)
    try:
        container.start()
        exit_code = container.wait()["StatusCode"]
        output = container.logs(stdout=True, stderr=True).decode(errors="replace")
    finally:
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
    if exit_code != 0:
        raise OneShotFailed(exit_code, output)
    return output
