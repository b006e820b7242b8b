"""The host tools the matrix needs, installed from Debian's packages where they are missing."""

from __future__ import annotations

import os
import shutil
import subprocess

NEEDED = {"qemu-system-x86_64": "qemu-system-x86", "mmdebstrap": "mmdebstrap", "mkfs.ext4": "e2fsprogs"}


def missing() -> list[str]:
    return sorted({package for tool, package in NEEDED.items() if shutil.which(tool) is None})


def ensure(say=print) -> None:
    """Install what is missing as root on Debian; otherwise say what to install."""
    packages = missing()
    if not packages:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError(f"the host matrix needs {', '.join(packages)}: install them (Debian: apt-get install ...)")
    say(f" • Installing {' '.join(packages)} from Debian for the host matrix ...")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], check=True,
                   env=environment, stdout=subprocess.DEVNULL)  # fmt: skip
