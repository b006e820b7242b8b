"""The image set as one file, for a CI runner's cache: saved here, loaded on a fresh engine.

Tags are content-addressed (images.py), so a loaded image whose tag the settings
ask for is used as is; a tag the archive lacks is built, and said so. The key
names what the set is made of: a cache keyed by it holds the right archive.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import docker

from ..common.progress import Status
from ..errors import BuildError

CHUNK = 2**20
LOADED = "Loaded image: "  # how the engine names each tag it loaded


def key(refs: list[str]) -> str:
    """A cache key for the set `refs`: the same refs, the same key, whatever their order."""
    return "pytest-single-k8s-images-" + hashlib.sha256("\n".join(sorted(refs)).encode()).hexdigest()[:16]


def save(client: docker.DockerClient, refs: list[str], path: Path, status: Status) -> int:
    """One archive of `refs` at `path` (shared layers once), whole or not at all; its size in bytes."""
    partial = path.with_name(path.name + ".partial")
    written = 0
    with status.step(f"Saving {len(refs)} images to {path}") as step:
        # docker-py saves one image per call; the engine's API takes several, as `docker save A B` does.
        response = client.api._get(client.api._url("/images/get"), params={"names": refs}, stream=True)
        client.api._raise_for_status(response)
        try:
            with partial.open("wb") as archive:
                for chunk in response.iter_content(CHUNK):
                    archive.write(chunk)
                    written += len(chunk)
                    step.update(f"{written / 1e6:.0f} MB")
            partial.rename(path)
        finally:
            partial.unlink(missing_ok=True)
    return written


def load(client: docker.DockerClient, path: Path, status: Status) -> list[str]:
    """Load the archive at `path` into the engine; the tags it held."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise BuildError(f"cannot load the images from {path}: {error.strerror}") from error
    loaded = []
    with status.step(f"Loading the images from {path} ({size / 1e6:.0f} MB)") as step, path.open("rb") as archive:

        def chunks() -> Iterator[bytes]:
            sent = 0
            while block := archive.read(CHUNK):
                sent += len(block)
                step.update(f"{sent / 1e6:.0f} of {size / 1e6:.0f} MB")
                yield block

        for message in client.api.load_image(chunks(), quiet=True):
            if "error" in message:
                raise BuildError(f"the engine could not load {path}: {message['error'].strip()}")
            line = message.get("stream", "").strip()
            if line.startswith(LOADED):
                loaded.append(line.removeprefix(LOADED))
    return loaded
