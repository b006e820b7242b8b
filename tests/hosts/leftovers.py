"""Prints what of ours is left on the engine's host, one line each, and any harm done to the engine (a
container on its default network must still start); nothing on a clean host. A cell's job runs it, on the
engine the docker CLI would use: DOCKER_HOST, else the Docker context."""

import sys

import docker.errors

from pytest_single_k8s import leftovers
from pytest_single_k8s.engine.connection import connect
from pytest_single_k8s.engine.labels import REPOSITORY

client = connect()
images = [tag for image in client.images.list(filters={"label": "io.github.pytest-single-k8s=kubernetes"})
          for tag in image.tags if tag.startswith(f"{REPOSITORY}/kubernetes:")]  # fmt: skip
found = leftovers.find(client, images[0])
try:  # e.g. a bridge module unloaded takes docker0 with it
    client.containers.run(images[0], ["true"], entrypoint=[], network_mode="bridge", remove=True)
except docker.errors.DockerException as error:
    found.append(f"harm: a container on the engine's default network does not start: {error}")
print("\n".join(found))
sys.exit(1 if found else 0)
