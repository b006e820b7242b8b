"""Which of our images start from an image pulled from a registry (--k8s-base-image, --k8s-registry-mirror).

    auto        images already cached from either way; else the official images where a registry answers:
                Debian's slim image under our debian image, nginx's under the example's nginx, and the
                pause, CoreDNS and local-path-provisioner images as they are (our recipes build the same
                programs in the same layout: entrypoint, paths, user); else each built here (the Debian
                rootfs with mmdebstrap, rootfs.py), as on an offline host
    REFERENCE   that image, pulled (any registry, e.g. a mirror on 127.0.0.1:5000/debian:bookworm-slim),
                with our package list installed on it by apt-get (images/debian/Dockerfile); the rest built
    mmdebstrap  the rootfs built here, and everything else, always

A registry mirror serves the official images under their own paths (MIRROR/library/debian:bookworm-slim,
MIRROR/coredns/coredns:v1.15.0), as an air-gapped registry holding copies can. The images built on
a base (etcd, kubernetes, nginx) follow it through their parent's tag, so each way has its own tags.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import docker
import docker.errors
import docker.utils
import requests.exceptions

from ..common.progress import Status
from ..errors import BuildError
from . import registry, rootfs
from .recipes import Versions
from .wanted import AUTO

MMDEBSTRAP = "mmdebstrap"
DEBIAN = f"debian:{rootfs.SUITE}-slim"  # the official image of the same Debian release as our rootfs
NGINX = "nginx:stable"  # the official nginx image: the example's page, "Welcome to nginx!"
AS_THEY_ARE = ("pause", "coredns", "local-path-provisioner")  # pulled, the official image is ours unchanged


def official(versions: Versions) -> dict[str, str]:
    """Recipe name -> the official image auto pulls for it, in build order (a parent before its children)."""
    return {
        "debian": DEBIAN,
        "pause": f"registry.k8s.io/pause:{versions.pause}",
        "nginx": NGINX,
        "coredns": f"registry.k8s.io/coredns/coredns:{versions.coredns}",
        "local-path-provisioner": f"docker.io/rancher/local-path-provisioner:{versions.local_path_provisioner}",
    }


def mirrored(reference: str, mirror: str | None) -> str:
    """`reference` as a registry mirror serves it: its path there (Docker Hub's library/ spelled out)."""
    if not mirror:
        return reference
    first, _, rest = reference.partition("/")
    named = bool(rest) and ("." in first or ":" in first or first == "localhost")  # a registry's host comes first
    path = rest if named else reference if rest else f"library/{reference}"
    return f"{mirror.rstrip('/')}/{path}"


@dataclass(frozen=True)
class Bases:
    """Recipe name -> the image reference it is built FROM instead of its usual start."""

    pulled: Mapping[str, str] = field(default_factory=dict)

    def origin(self, name: str) -> str | None:
        return self.pulled.get(name)


Cached = Callable[[Bases, str], bool]  # (bases, recipe name): is that recipe's image built?


def choose(
    setting: str,
    client: docker.DockerClient,
    cached: Cached,
    status: Status,
    versions: Versions,
    mirror: str | None = None,
) -> Bases:
    if setting == MMDEBSTRAP:
        return Bases()
    if setting != AUTO:
        given = Bases({"debian": setting})
        if not cached(given, "debian"):
            pull(client, setting, status)
        return given
    chosen = Bases()
    for name, reference in official(versions).items():
        chosen = _auto(client, name, mirrored(reference, mirror), chosen, cached, status)
    return chosen


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
    repository, tag = docker.utils.parse_repository_tag(image)  # a digest comes back as the tag
    with status.step(f"Pulling {image}") as step:
        try:
            registry.follow(client.api.pull(repository, tag or "latest", stream=True, decode=True), step)
        except docker.errors.APIError as error:
            raise BuildError(f"failed to pull {image}: {error.explanation or error}") from error
        except (docker.errors.DockerException, requests.exceptions.RequestException, BuildError) as error:
            raise BuildError(f"failed to pull {image}: {error}") from error
