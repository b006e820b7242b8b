"""The connection to the host's Docker engine, with an error that says what to do."""

from __future__ import annotations

import docker
import docker.errors
import requests.exceptions

from ..common.paths import SETUP_HOST
from ..errors import DockerUnavailable

SETUP_HINT = (
    f"start a Docker engine (as root on Debian, {SETUP_HOST} installs and starts one), or point DOCKER_HOST at one"
)


def connect(timeout: float = 120.0) -> docker.DockerClient:
    """A client whose engine answered a ping; DockerUnavailable otherwise."""
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise DockerUnavailable(f"no Docker engine answers ({error}): {SETUP_HINT}") from error
    return client
