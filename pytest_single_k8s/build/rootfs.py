"""The debian image: a Debian rootfs made by mmdebstrap and loaded with `docker import`."""

from __future__ import annotations

import shutil
from pathlib import Path

import docker

from ..common.process import run_streaming
from ..common.progress import Status
from ..engine.labels import LABEL
from ..errors import BuildError

SUITE = "bookworm"
MMDEBSTRAP_OPTIONS = (
    "--variant=minbase",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
)


def inputs() -> dict[str, str]:
    """What goes into the tag beside the package list."""
    return {"rootfs": " ".join((*MMDEBSTRAP_OPTIONS, SUITE))}


def build(client: docker.DockerClient, ref: str, packages_file: Path, scratch: Path, status: Status) -> None:
    if shutil.which("mmdebstrap") is None:
        # Not the host set-up script: it installs mmdebstrap only where no engine answers yet, never here.
        raise BuildError("failed to build the debian image: mmdebstrap is not installed (`apt-get install mmdebstrap`)")
    packages = [
        line.strip() for line in packages_file.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    with status.step(f"Building {ref} (Debian {SUITE} rootfs)") as step:
        rootfs = scratch / "rootfs.tar"
        command = ["mmdebstrap", *MMDEBSTRAP_OPTIONS, f"--include={','.join(packages)}", SUITE, str(rootfs)]
        run_streaming(command, "the debian image", lambda line: step.update(line[:100]))
        step.update("docker import")
        repository, tag = ref.split(":")
        client.api.import_image_from_file(
            str(rootfs),
            repository=repository,
            tag=tag,
            changes=[f"LABEL {LABEL}=debian", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        )
