"""The host matrix's engine cells: pytest in a job container, as CI systems run it.

dood  the job container drives this host's engine through its socket (GitHub's `container:` jobs,
      Jenkins agents, devcontainers): on a network of its own, the checkout copied in at a path
      this host does not have, so that nothing of the job's files can be shared by accident.
dind  the job container drives a dind service beside it (GitLab's `docker:dind`): a privileged
      container running its own dockerd (tests/hosts/engine/dind-entrypoint), reached as
      tcp://docker:2375 on their network; the checkout in /builds, which both share, as GitLab
      shares it. That engine starts empty, as a fresh runner's: the job's first session pulls our
      images from a registry beside it (registry:5000, where this host pushed them), as a CI job
      does with --k8s-images-from. (With the conformance subset, the e2e images are loaded from an
      archive through its API, our images with them.)

Each runs tests/hosts/job.sh as a VM cell does and reports the same way (vm.Result). Whatever
happens, what a cell made goes at the end (containers, network, volumes, files), and this host
is checked for leftovers of ours after a dind cell: the nested cluster must touch nothing here.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors

from pytest_single_k8s.build import registry
from pytest_single_k8s.build.images import Images
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.engine.containers import remove
from tests.integration import registry as registry_server

from . import vm
from .cells import MORE_TESTS, EngineCell
from .disk import CHECKOUT, HERE, example_dependencies, install_dependencies

LABEL = "io.github.pytest-single-k8s.test"  # what the cells make; not the plugin's label
RECIPE = HERE / "engine"
PYTHON = "3.11"  # Debian 12's, the image's base
WORKSPACES = {"dood": "/__w/psk8s/psk8s", "dind": "/builds/psk8s"}  # GitHub's and GitLab's checkout paths
REGISTRY = "{}:{}".format(*registry_server.IN_NETWORK)  # the dind cell's: plain HTTP, insecure to its service
WRAPPER = CHECKOUT / "pytest_single_k8s" / "host" / "runc-wrapper"


def image(images: Images, say=print) -> str:
    """The cells' image, built once for its inputs (tagged by their hash)."""
    base = images.ref("debian")
    recipe = [(RECIPE / name).read_text() for name in ("Dockerfile", "dind-entrypoint")]
    wrapper = [(WRAPPER / name).read_text() for name in ("main.go", "go.mod")]
    inputs = [base, *recipe, *wrapper, PYTHON, *example_dependencies(), (CHECKOUT / "pyproject.toml").read_text()]
    ref = f"localhost/pytest-single-k8s-test/cell-engine:{hashlib.sha256(repr(inputs).encode()).hexdigest()[:16]}"
    try:
        images.client.images.get(ref)
        return ref
    except docker.errors.ImageNotFound:
        pass
    with tempfile.TemporaryDirectory(prefix="cell-engine-") as scratch:
        context = Path(scratch)
        for name in ("Dockerfile", "dind-entrypoint"):
            shutil.copy(RECIPE / name, context / name)
        subprocess.run(["go", "build", "-trimpath", "-o", str(context / "runc-wrapper"), "."],
                       cwd=WRAPPER, env={**os.environ, "CGO_ENABLED": "0"}, check=True)  # fmt: skip
        say(" • the engine cells' image: the plugin's dependencies ...")
        install_dependencies(context / "site", PYTHON, example_dependencies())
        say(f" • the engine cells' image: {ref} ...")
        images.client.images.build(
            path=str(context), tag=ref, rm=True, forcerm=True, buildargs={"BASE": base}, labels={LABEL: "cell-engine"}
        )
    return ref


def checkout(workspace: str) -> bytes:
    """The working tree as git sees it (tracked and new files, none ignored), as a tar under `workspace`."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=CHECKOUT, capture_output=True, check=True
    ).stdout.decode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in filter(None, listed.split("\0")):
            path = CHECKOUT / name
            if path.is_file():
                tar.add(path, arcname=f"{workspace.lstrip('/')}/{name}", recursive=False)
    return buffer.getvalue()


def run(
    cell: EngineCell,
    client: docker.DockerClient,
    ref: str,
    version: str,
    refs: list[str],
    saved: Path | None = None,
    e2e: Path | None = None,
    timeout: float = 3600,
) -> vm.Result:
    """Run the job in a job container (beside a dind service and a registry holding `refs`, our images, for
    dind); its report. With `e2e` (e2e.test and kubectl), the job is the conformance subset, and dind's engine
    loads the archive in the folder `saved` (the e2e images and ours)."""
    result = vm.Result(cell)  # the same report as a VM cell's
    run_id = f"psk8s-cell-{cell.name}-{uuid.uuid4().hex[:8]}"
    labels = {LABEL: f"cell-{cell.name}"}
    workspace = WORKSPACES[cell.name]
    with contextlib.ExitStack() as made, _job_folder(cell, version, e2e) as job:
        network = client.networks.create(run_id, labels=labels)
        made.callback(network.remove)
        volumes = {str(job): {"bind": "/job", "mode": "rw"}}
        environment = {"CHECKOUT": workspace, "LOAD_IMAGES": "0", "READY_TIMEOUT": "120", "MORE_TESTS": MORE_TESTS}
        if cell.name == "dood":
            volumes["/var/run/docker.sock"] = {"bind": "/var/run/docker.sock", "mode": "rw"}
        else:
            address = made.enter_context(registry_beside(client, ref, network, f"{run_id}-registry", labels))
            registry.push(client, f"{address}/psk8s", refs, Status())
            builds = {_volume(client, made, f"{run_id}-builds", labels): {"bind": "/builds", "mode": "rw"}}
            made.enter_context(dind_service(client, ref, network, f"{run_id}-docker", labels, builds))
            volumes |= builds
            environment |= {"DOCKER_HOST": "tcp://docker:2375", "IMAGES_FROM": f"{REGISTRY}/psk8s", "KILL_FIRST": "1"}
            if e2e:
                assert saved is not None, "the e2e images come to the dind service in an archive"
                volumes[str(saved)] = {"bind": "/images", "mode": "ro"}
                environment["LOAD_IMAGES"] = "1"
        container = client.containers.create(
            ref, ["bash", "/job/run"], name=run_id, labels=labels, network=network.name,
            environment=environment, volumes=volumes,
        )  # fmt: skip
        made.callback(remove, container)
        container.put_archive("/", checkout(workspace))
        started = time.monotonic()
        container.start()
        container.wait(timeout=timeout)
        result.seconds = time.monotonic() - started
        vm.read_report(result, job)
    return result


@contextlib.contextmanager
def registry_beside(
    client: docker.DockerClient, image: str, network: Any, name: str, labels: dict[str, str]
) -> Iterator[str]:
    """The dind cell's registry, as REGISTRY on the cell's network; yields where this host pushes to it."""
    with tempfile.TemporaryDirectory(prefix="registry-") as scratch:
        binary = registry_server.build(Path(scratch))
        with registry_server.in_container(client, image, binary, network, name, labels) as address:
            yield address


@contextlib.contextmanager
def dind_service(
    client: docker.DockerClient,
    image: str,
    network: Any,
    name: str,
    labels: dict[str, str],
    volumes: dict[str, dict[str, str]] | None = None,
    arguments: list[str] | None = None,
) -> Iterator[Any]:
    """A dind service (its own dockerd, with `arguments`) as `docker` on `network`, as GitLab names it, trusting
    REGISTRY over plain HTTP; its storage a volume of its own. Yields it started; gone at the end, storage and all."""
    with contextlib.ExitStack() as made:
        storage = {_volume(client, made, name, labels): {"bind": "/var/lib/docker", "mode": "rw"}}
        service = client.containers.create(
            image, ["dind-entrypoint", f"--insecure-registry={REGISTRY}", *(arguments or [])], name=name,
            labels=labels, privileged=True, volumes={**storage, **(volumes or {})},
        )  # fmt: skip
        made.callback(remove, service)
        network.connect(service, aliases=["docker"])
        service.start()
        yield service


def _volume(client: docker.DockerClient, made: contextlib.ExitStack, name: str, labels: dict[str, str]) -> str:
    volume: Any = client.volumes.create(name, labels=labels)
    made.callback(volume.remove, force=True)
    return name


@contextlib.contextmanager
def _job_folder(cell: EngineCell, version: str, e2e: Path | None) -> Iterator[Path]:
    """The job's folder (/job in the container), as vm.prepare_job makes it; gone at the end."""
    job = Path(tempfile.mkdtemp(prefix=f"cell-{cell.name}-"))
    try:
        vm.prepare_job(job, version, e2e)
        yield job
    finally:
        shutil.rmtree(job, ignore_errors=True)
