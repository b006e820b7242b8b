"""The image set in a registry: pushed there by `images --push PREFIX`, pulled from there
(`--k8s-images-from PREFIX`) by its content tags: an image the engine lacks is pulled instead of built.

Our image localhost/pytest-single-k8s/NAME:TAG is PREFIX/NAME:TAG there; a pulled image is
tagged with our name and its registry name removed, so that nothing else tells them apart.
Credentials are Docker's own: the engine pulls and pushes with what its client sends, which
docker-py reads from Docker's config file and credential helpers, as the docker CLI does.
"""

from __future__ import annotations

import contextlib
import functools
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
    """Whether the registry holds `ref` (its manifest, asked through the engine, with its credentials), asked
    once per process: a registry that cannot be read holds nothing, and the pull that follows says why."""
    return _has(client, "{}:{}".format(*remote(prefix, ref)))


@functools.cache
def _has(client: docker.DockerClient, reference: str) -> bool:
    try:
        client.api.inspect_distribution(reference)
    except FAILURES:
        return False
    return True


def pull(client: docker.DockerClient, prefix: str, ref: str, status: Status) -> bool:
    """Pull `ref` from the registry and give it our name; False, with the reason said, where that fails."""
    repository, tag = remote(prefix, ref)
    try:
        with status.step(f"Pulling {repository}:{tag}") as step:
            follow(client.api.pull(repository, tag, stream=True, decode=True), step)
        local, local_tag = ref.rsplit(":", 1)
        client.api.tag(f"{repository}:{tag}", local, local_tag)
    except (BuildError, *FAILURES) as error:
        status.info(f" • {repository}:{tag}: not pulled ({_reason(error)}): building it here")
        return False
    finally:
        _untag(client, f"{repository}:{tag}")  # the registry's name only: our tag keeps the image
    return True


def push(client: docker.DockerClient, prefix: str, refs: list[str], status: Status) -> None:
    """Publish `refs` under `prefix`; a failure names the image and the registry's words."""
    for ref in refs:
        repository, tag = remote(prefix, ref)
        try:
            client.api.tag(ref, repository, tag)
            with status.step(f"Pushing {repository}:{tag}") as step:
                follow(client.api.push(repository, tag, stream=True, decode=True), step)
        except (BuildError, *FAILURES) as error:
            raise BuildError(f"failed to push {repository}:{tag}: {_reason(error)}") from None
        finally:
            _untag(client, f"{repository}:{tag}")


def follow(messages: Iterable[dict[str, Any]], step: Step) -> None:
    """Read the engine's messages of a pull or a push to their end: the layers' progress in MB; an error raised."""
    layers: dict[str, tuple[int, int]] = {}
    for message in messages:
        if "error" in message:
            raise BuildError(message["error"])
        detail = message.get("progressDetail") or {}
        # The transfer only: extracting a layer counts its bytes again, from zero.
        if message.get("id") and detail.get("total") and message.get("status") in ("Downloading", "Pushing"):
            layers[message["id"]] = (detail.get("current", 0), detail["total"])
            done, total = (sum(values) for values in zip(*layers.values(), strict=True))
            step.update(f"{done / 1e6:.0f} of {total / 1e6:.0f} MB")


def _untag(client: docker.DockerClient, reference: str) -> None:
    """Remove a name, not the image our tag keeps; one already gone is fine."""
    with contextlib.suppress(*FAILURES):
        client.api.remove_image(reference)


def _reason(error: Exception) -> object:
    return error.explanation if isinstance(error, docker.errors.APIError) and error.explanation else error
