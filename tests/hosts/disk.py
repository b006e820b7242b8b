"""Debian VM disks for the host matrix, made with mmdebstrap and cached by content.

A disk holds Debian's own kernel, systemd and docker.io, the plugin's Python
dependencies (installed from PyPI for the guest's Python), the cell's
daemon.json and a one-shot unit that runs the job from the `job` share and
powers off. A remote cell's disk instead has its end of the link to this host
and dockerd listening there. `mkfs.ext4 -d` makes the disk from the rootfs
without mounting.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pytest_single_k8s.common.paths import cache_dir

from .cells import GUEST_ADDRESS, PREFIX_LENGTH, Cell

HERE = Path(__file__).parent
CHECKOUT = HERE.parent.parent
DISK_SIZE = "10G"
SHARES = {"checkout": "/checkout", "job": "/job", "images": "/images"}  # 9p tag -> mount point in the guest
SITE = "/opt/pytest-single-k8s/site"  # the guest's PYTHONPATH for the plugin's dependencies
JOB_UNIT = f"""[Unit]
Description=pytest-single-k8s host matrix job
Requires=docker.service
After=docker.service
RequiresMountsFor={" ".join(SHARES.values())}

[Service]
Type=oneshot
ExecStart=/bin/bash /job/run
ExecStopPost=/bin/systemctl poweroff --no-block
StandardOutput=journal+console
TimeoutStartSec=3600

[Install]
WantedBy=multi-user.target
"""
LINK_UNIT = f"""[Unit]
Description=pytest-single-k8s host matrix: the link to the host
Before=docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/ip addr add {GUEST_ADDRESS}/{PREFIX_LENGTH} dev eth0
ExecStart=/usr/sbin/ip link set eth0 up

[Install]
WantedBy=multi-user.target
"""
# As a CI's dind service or a build host's engine listens: on TCP, without TLS (the link is this host's only).
DOCKERD_ON_TCP = """[Service]
ExecStart=
ExecStart=/usr/sbin/dockerd -H fd:// -H tcp://0.0.0.0:2375 --tls=false
"""


@dataclass(frozen=True)
class Disk:
    image: Path
    kernel: Path
    initrd: Path


def dependencies() -> list[str]:
    """The plugin's runtime dependencies, as pyproject.toml lists them."""
    return tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["project"]["dependencies"]


def key(cell: Cell) -> str:
    inputs = [
        repr(cell),
        *cell.packages,
        JOB_UNIT,
        LINK_UNIT,
        DOCKERD_ON_TCP,
        repr(SHARES),
        DISK_SIZE,
        *dependencies(),
        Path(__file__).read_text(),
    ]
    return hashlib.sha256("\0".join(inputs).encode()).hexdigest()[:16]


def ensure(cell: Cell, say=print) -> Disk:
    """The cell's disk, built unless a disk of the same inputs is cached."""
    folder = cache_dir() / "hosts" / f"{cell.name}-{key(cell)}"
    disk = Disk(folder / "disk.img", folder / "vmlinuz", folder / "initrd.img")
    if disk.image.exists():
        return disk
    for tool, package in (("mmdebstrap", "mmdebstrap"), ("mkfs.ext4", "e2fsprogs")):
        if shutil.which(tool) is None:
            raise SystemExit(f"building host matrix disks needs {tool}: apt-get install {package}")
    folder.parent.mkdir(parents=True, exist_ok=True)
    for stale in folder.parent.glob(f"{cell.name}-*"):  # the same cell's disks of older inputs
        shutil.rmtree(stale)
    with tempfile.TemporaryDirectory(prefix=f"disk-{cell.name}-", dir=folder.parent) as work:
        rootfs = Path(work) / "rootfs"
        say(f" • cell {cell.name}: Debian {cell.suite} rootfs with mmdebstrap ...")
        options = [f"--aptopt={option}" for option in cell.apt_options]
        subprocess.run(
            ["mmdebstrap", "--variant=minbase", "--components=main", f"--include={','.join(cell.packages)}",
             *options, cell.suite, str(rootfs)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        _customise(cell, rootfs)
        if not cell.remote:  # a remote cell's pytest runs on this host
            say(f" • cell {cell.name}: the plugin's dependencies for the guest's Python ...")
            _install_dependencies(rootfs)
        staged = Path(work) / "disk"
        staged.mkdir()
        shutil.copy(max((rootfs / "boot").glob("vmlinuz-*")), staged / "vmlinuz")
        shutil.copy(max((rootfs / "boot").glob("initrd.img-*")), staged / "initrd.img")
        say(f" • cell {cell.name}: the disk image ...")
        subprocess.run(["mkfs.ext4", "-q", "-L", "root", "-d", str(rootfs), str(staged / "disk.img"), DISK_SIZE],
                       check=True)  # fmt: skip
        staged.rename(folder)
    return disk


def _customise(cell: Cell, rootfs: Path) -> None:
    (rootfs / "etc/hostname").write_text(f"cell-{cell.name}\n")
    fstab = ["/dev/vda / ext4 rw,relatime 0 1"]
    for tag, mount in {} if cell.remote else SHARES.items():
        (rootfs / mount.lstrip("/")).mkdir(parents=True, exist_ok=True)
        read_only = "" if tag == "job" else ",ro"
        fstab.append(f"{tag} {mount} 9p trans=virtio,version=9p2000.L,msize=524288{read_only} 0 0")
    (rootfs / "etc/fstab").write_text("\n".join(fstab) + "\n")
    if cell.daemon:
        (rootfs / "etc/docker").mkdir(parents=True, exist_ok=True)
        (rootfs / "etc/docker/daemon.json").write_text(cell.daemon_json() + "\n")
    if cell.remote:
        _enable(rootfs, "pytest-single-k8s-link.service", LINK_UNIT)
        drop_in = rootfs / "etc/systemd/system/docker.service.d"
        drop_in.mkdir(parents=True, exist_ok=True)
        (drop_in / "tcp.conf").write_text(DOCKERD_ON_TCP)
    else:
        _enable(rootfs, "pytest-single-k8s-job.service", JOB_UNIT)


def _enable(rootfs: Path, name: str, unit: str) -> None:
    units = rootfs / "etc/systemd/system"
    (units / name).write_text(unit)
    (units / "multi-user.target.wants").mkdir(parents=True, exist_ok=True)
    (units / "multi-user.target.wants" / name).symlink_to(f"../{name}")


def _install_dependencies(rootfs: Path) -> None:
    """pip on this host installs wheels for the guest's Python into the rootfs: the VM has no network."""
    python = (rootfs / "usr/bin/python3").readlink().name  # e.g. python3.13
    install_dependencies(rootfs / SITE.lstrip("/"), python.removeprefix("python"))


def example_dependencies() -> list[str]:
    """What the examples need besides (tests/example: kubernetes_asyncio, kopf, the async test plugins)."""
    extras = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    wanted = ("kopf", "pytest-asyncio", "anyio")
    return [*extras["asyncio"], *(entry for entry in extras["test"] if re.split(r"[<>=\[ ]", entry)[0] in wanted)]


def install_dependencies(target: Path, version: str, more: list[str] | None = None) -> None:
    """The plugin's dependencies (and `more`), as wheels for Python `version` (e.g. 3.11) on Linux, into
    `target`: pip runs on this host, with its network and certificates."""
    wheels = [f"--platform=manylinux_2_{minor}_x86_64" for minor in (17, 28, 34)]
    pip = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-warn-conflicts",
        "--target",
        str(target),
        "--python-version",
        version,
    ]
    subprocess.run([*pip, "--only-binary=:all:", *wheels, *dependencies(), *(more or [])], check=True)
