"""The image set in a registry: pushed there by `images --push PREFIX`, pulled from there
(`--k8s-images-from PREFIX`) by its content tags before anything is built.

Our image localhost/pytest-single-k8s/NAME:TAG is PREFIX/NAME:TAG there; a pulled image is
tagged with our name and its registry name removed, so that nothing else tells them apart.
Credentials are Docker's own: the engine pulls and pushes with what its client sends, which
docker-py reads from Docker's config file and credential helpers, as the docker CLI does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import docker
import docker.errors
import requests.exceptions

from ..common.progress import Status, Step
from ..errors import BuildError

FAILURES = (docker.errors.DockerException, requests.exceptions.RequestException)


def remote(prefix: str, ref: str) -> tuple[str, str]:
    """Where our `ref` lives under `prefix`: (repository, tag)."""
    name, tag = ref.rsplit("/", 1)[1].split(":")
    return f"{prefix.rstrip('/')}/{name}", tag


def has(client: docker.DockerClient, prefix: str, ref: str) -> bool:
    """Whether the registry holds `ref` (its manifest, asked through the engine, with its credentials)."""
    repository, tag = remote(prefix, ref)
    try:
        client.api.inspect_distribution(f"{repository}:{tag}")
    except FAILURES:
        return False
    return True


def pull(client: docker.DockerClient, prefix: str, ref: str, status: Status) -> bool:
    """Pull `ref` from the registry and give it our name; False, with the reason said, where that fails."""
    repository, tag = remote(prefix, ref)
    try:
        with status.step(f"Pulling {repository}:{tag}") as step:
            follow(client.api.pull(repository, tag, stream=True, decode=True), step)
    except (BuildError, *FAILURES) as error:
        reason = error.explanation if isinstance(error, docker.errors.APIError) and error.explanation else error
        status.info(f" • {repository}:{tag}: not pulled ({reason}): building it here")
        return False
    local, local_tag = ref.rsplit(":", 1)
    client.api.tag(f"{repository}:{tag}", local, local_tag)
    client.api.remove_image(f"{repository}:{tag}")  # the name only: our tag keeps the image
    return True


def push(client: docker.DockerClient, prefix: str, refs: list[str], status: Status) -> None:
    """Publish `refs` under `prefix`; a failure names the image and the registry's words."""
    for ref in refs:
        repository, tag = remote(prefix, ref)
        client.api.tag(ref, repository, tag)
        try:
            with status.step(f"Pushing {repository}:{tag}") as step:
                follow(client.api.push(repository, tag, stream=True, decode=True), step)
        except BuildError as error:
            raise BuildError(f"failed to push {repository}:{tag}: {error}") from None
        finally:
            client.api.remove_image(f"{repository}:{tag}")  # the name only


def follow(messages: Iterable[dict[str, Any]], step: Step) -> None:
    """Read the engine's messages of a pull or a push to their end: the layers' progress in MB; an error raised."""
    layers: dict[str, tuple[int, int]] = {}
    for message in messages:
        if "error" in message:
            raise BuildError(message["error"])
        detail = message.get("progressDetail") or {}
        if message.get("id") and detail.get("total"):
            layers[message["id"]] = (detail.get("current", 0), detail["total"])
            done, total = (sum(values) for values in zip(*layers.values(), strict=True))
            step.update(f"{done / 1e6:.0f} of {total / 1e6:.0f} MB")
