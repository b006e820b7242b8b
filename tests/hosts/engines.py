"""The host matrix's engine cells: pytest in a job container, as CI systems run it.

dood  the job container drives this host's engine through its socket (GitHub's `container:` jobs,
      Jenkins agents, devcontainers): on a network of its own, the checkout copied in at a path
      this host does not have, so that nothing of the job's files can be shared by accident.

Each runs tests/hosts/job.sh as a VM cell does and reports the same way (vm.Result); the job
container, its network and its files go at the end, whatever happened.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

import docker
import docker.errors

from pytest_single_k8s.build.images import Images
from pytest_single_k8s.common.paths import cache_dir

from . import vm
from .cells import EngineCell
from .disk import CHECKOUT, HERE, install_dependencies

LABEL = "io.github.pytest-single-k8s.test"  # what the cells make; not the plugin's label
RECIPE = HERE / "engine"
PYTHON = "3.11"  # Debian 12's, the image's base
WORKSPACE = "/__w/psk8s/psk8s"  # where GitHub's runner puts a job container's checkout


def image(images: Images, say=print) -> str:
    """The cells' image, built once for its inputs (tagged by their hash)."""
    base = images.ref("debian")
    inputs = [base, (RECIPE / "Dockerfile").read_text(), PYTHON, (CHECKOUT / "pyproject.toml").read_text()]
    ref = f"localhost/pytest-single-k8s-test/cell-engine:{hashlib.sha256(repr(inputs).encode()).hexdigest()[:16]}"
    try:
        images.client.images.get(ref)
        return ref
    except docker.errors.ImageNotFound:
        pass
    with tempfile.TemporaryDirectory(prefix="cell-engine-") as scratch:
        context = Path(scratch)
        shutil.copy(RECIPE / "Dockerfile", context / "Dockerfile")
        say(" • the engine cells' image: the plugin's dependencies ...")
        install_dependencies(context / "site", PYTHON)
        say(f" • the engine cells' image: {ref} ...")
        images.client.images.build(
            path=str(context), tag=ref, rm=True, forcerm=True, buildargs={"BASE": base}, labels={LABEL: "cell-engine"}
        )
    return ref


def checkout() -> bytes:
    """The working tree as git sees it (tracked and new files, none ignored), as a tar under WORKSPACE."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=CHECKOUT, capture_output=True, check=True
    ).stdout.decode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in filter(None, listed.split("\0")):
            path = CHECKOUT / name
            if path.is_file():
                tar.add(path, arcname=f"{WORKSPACE.lstrip('/')}/{name}", recursive=False)
    return buffer.getvalue()


def run(cell: EngineCell, client: docker.DockerClient, ref: str, version: str, timeout: float = 1800) -> vm.Result:
    """Run the job in a job container on a network of its own, with this engine's socket; its report."""
    result = vm.Result(cell)  # the same report as a VM cell's
    run_id = uuid.uuid4().hex[:8]
    labels = {LABEL: f"cell-{cell.name}"}
    network = client.networks.create(f"psk8s-cell-{cell.name}-{run_id}", labels=labels)
    job = Path(tempfile.mkdtemp(prefix=f"cell-{cell.name}-"))
    container = None
    try:
        shutil.copy(HERE / "job.sh", job / "run")
        (job / "version").write_text(version)
        (job / "cache").mkdir()
        versions = cache_dir() / "kubernetes-versions.json"
        if versions.exists():
            shutil.copy(versions, job / "cache" / versions.name)
        container = client.containers.create(
            ref,
            ["bash", "/job/run"],
            name=f"psk8s-cell-{cell.name}-{run_id}",
            labels=labels,
            network=network.name,
            environment={"CHECKOUT": WORKSPACE, "LOAD_IMAGES": "0", "READY_TIMEOUT": "120"},
            volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"},
                     str(job): {"bind": "/job", "mode": "rw"}},
        )  # fmt: skip
        container.put_archive("/", checkout())
        started = time.monotonic()
        container.start()
        container.wait(timeout=timeout)
        result.seconds = time.monotonic() - started
        vm.read_report(result, job)
    finally:
        if container is not None:
            container.remove(force=True)
        network.remove()
        shutil.rmtree(job, ignore_errors=True)
    return result
