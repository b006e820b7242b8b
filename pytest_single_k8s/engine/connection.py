"""The connection to the Docker engine, with an error that says what to do.

The engine is the one the docker CLI would use: DOCKER_HOST, else the Docker context that
DOCKER_CONTEXT or the docker CLI's configuration names (colima, Lima and Docker Desktop set one;
docker-py reads neither), else the default socket.
"""

from __future__ import annotations

import os

import docker
import docker.context
import docker.context.config
import docker.errors
import requests.exceptions

from ..common.paths import SETUP_HOST
from ..errors import DockerUnavailable

SETUP_HINT = (
    f"start a Docker engine (as root on Debian, {SETUP_HOST} installs and starts one), or point DOCKER_HOST at one"
)


def context() -> docker.context.Context | None:
    """The Docker context in use where DOCKER_HOST is unset, unless it is the default one."""
    if os.environ.get("DOCKER_HOST"):
        return None
    name = os.environ.get("DOCKER_CONTEXT") or docker.context.config.get_current_context_name()
    if name == "default":
        return None
    found = docker.context.ContextAPI.get_context(name)
    if found is None:
        raise DockerUnavailable(f"the Docker context {name!r} is not found: `docker context ls` lists them")
    return found


def docker_host() -> str | None:
    """The engine's address as DOCKER_HOST or the Docker context gives it; None: the default socket."""
    chosen = context()
    return chosen.Host if chosen is not None else os.environ.get("DOCKER_HOST")


def connect(timeout: float = 120.0) -> docker.DockerClient:
    """A client whose engine answered a ping; DockerUnavailable otherwise."""
    try:
        chosen = context()
        if chosen is None:
            client = docker.from_env(timeout=timeout)
        else:
            ssh = str(chosen.Host).startswith("ssh://")
            client = docker.DockerClient(chosen.Host, tls=chosen.TLSConfig, timeout=timeout, use_ssh_client=ssh)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise DockerUnavailable(f"no Docker engine answers ({error}): {SETUP_HINT}") from error
    return client
