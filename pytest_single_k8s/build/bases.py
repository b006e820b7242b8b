"""Which of our images start from an image pulled from a registry (--k8s-base-image).

    auto        images already cached from either way; else Debian's official slim image where a
                registry answers (and the official nginx image for the example's nginx); else the
                Debian rootfs built here with mmdebstrap (rootfs.py), as on an offline host
    REFERENCE   that image, pulled (any registry, e.g. a mirror on 127.0.0.1:5000/debian:bookworm-slim),
                with our package list installed on it by apt-get (images/debian/Dockerfile)
    mmdebstrap  the rootfs built here, always

The images built on a base (etcd, kubernetes, nginx) follow it through their
parent's tag, so each way has its own tags.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import docker
import docker.errors
import requests.exceptions

from ..common.progress import Status
from ..errors import BuildError
from . import rootfs
from .wanted import AUTO

MMDEBSTRAP = "mmdebstrap"
DEBIAN = f"debian:{rootfs.SUITE}-slim"  # the official image of the same Debian release as our rootfs
NGINX = "nginx:stable"  # the official nginx image: the example's page, "Welcome to nginx!"


@dataclass(frozen=True)
class Bases:
    """Recipe name -> the image reference it is built FROM instead of its usual start."""

    pulled: Mapping[str, str] = field(default_factory=dict)

    def origin(self, name: str) -> str | None:
        return self.pulled.get(name)


Cached = Callable[[Bases, str], bool]  # (bases, recipe name): is that recipe's image built?


def choose(setting: str, client: docker.DockerClient, cached: Cached, status: Status) -> Bases:
    if setting == MMDEBSTRAP:
        return Bases()
    if setting != AUTO:
        given = Bases({"debian": setting})
        if not cached(given, "debian"):
            pull(client, setting, status)
        return given
    debian = _auto(client, "debian", DEBIAN, Bases(), cached, status)
    return _auto(client, "nginx", NGINX, debian, cached, status)


def _auto(client: docker.DockerClient, name: str, image: str, chosen: Bases, cached: Cached, status: Status) -> Bases:
    """Cached from a pull, cached from a build here, else a pull, else a build here."""
    pulled = Bases({**chosen.pulled, name: image})
    if cached(pulled, name):
        return pulled
    if cached(chosen, name):
        return chosen
    try:
        pull(client, image, status)
    except BuildError as error:
        status.info(f" • {name}: building it here: {error}")
        return chosen
    return pulled


def pull(client: docker.DockerClient, image: str, status: Status) -> None:
    """Pull `image` unless the engine has it; a failure is a BuildError that names it."""
    try:
        client.images.get(image)
        return
    except docker.errors.ImageNotFound:
        pass
    with status.step(f"Pulling {image}"):
        try:
            client.images.pull(image)  # docker-py splits name, tag and digest; no tag means latest
        except docker.errors.APIError as error:
            raise BuildError(f"failed to pull {image}: {error.explanation or error}") from error
        except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
            raise BuildError(f"failed to pull {image}: {error}") from error
