"""Prints what of ours is left on this host, one line each; nothing on a clean host (run inside a VM cell)."""

import sys

import docker

from pytest_single_k8s import leftovers
from pytest_single_k8s.engine.labels import REPOSITORY

client = docker.from_env()
images = [tag for image in client.images.list(filters={"label": "io.github.pytest-single-k8s=kubernetes"})
          for tag in image.tags if tag.startswith(f"{REPOSITORY}/kubernetes:")]  # fmt: skip
found = leftovers.find(client, images[0])
print("\n".join(found))
sys.exit(1 if found else 0)
