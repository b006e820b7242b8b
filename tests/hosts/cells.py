"""The host matrix: each cell is a Debian VM as users have it, as data.

The host this runs on is the cgroup v1 cell (Debian 12, Docker 20.10, cgroupfs).
Each VM cell boots Debian's own kernel and docker.io, with Docker's defaults
unless daemon.json says otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

BASE_PACKAGES = (
    "systemd-sysv", "udev", "dbus", "kmod", "linux-image-amd64", "initramfs-tools", "docker.io", "apparmor",
    "python3", "iptables", "ca-certificates", "procps", "util-linux",
)  # fmt: skip


@dataclass(frozen=True)
class Cell:
    name: str
    debian: str  # the release's number, for the table
    suite: str
    daemon: dict[str, Any] = field(default_factory=dict)  # /etc/docker/daemon.json; empty: Docker's defaults
    extra_packages: tuple[str, ...] = ()
    apt_options: tuple[str, ...] = ()
    note: str = ""

    @property
    def packages(self) -> tuple[str, ...]:
        return BASE_PACKAGES + self.extra_packages

    def daemon_json(self) -> str:
        return json.dumps(self.daemon, indent=2, sort_keys=True)


# testing's Release files on the mirror can be past their Valid-Until date
UNDATED = ('Acquire::Check-Valid-Until "false"',)

CELLS = {
    cell.name: cell
    for cell in (
        Cell("a", "12", "bookworm", note="cgroup v2, systemd driver (Docker 20.10's default on v2)"),
        Cell("b", "13", "trixie", extra_packages=("docker-cli",), note="Docker 26, systemd driver"),
        Cell("c", "14", "forky", extra_packages=("docker-cli",), apt_options=UNDATED,
             note="Docker 28, systemd driver, br_netfilter not loaded by Docker"),
        Cell("d", "14", "forky", extra_packages=("docker-cli",), apt_options=UNDATED,
             daemon={"exec-opts": ["native.cgroupdriver=cgroupfs"], "cgroup-parent": "/actions_job",
                     "features": {"containerd-snapshotter": True}, "data-root": "/srv/docker"},
             note="cgroupfs with cgroup-parent (as GitHub's older runners), containerd image store, "
                  "Docker's root in /srv/docker"),
    )
}  # fmt: skip


@dataclass(frozen=True)
class EngineCell:
    """A cell where pytest runs in a job container beside an engine (tests/hosts/engines.py)."""

    name: str  # dood or dind: how the job reaches its engine (tests/hosts/engines.py)
    note: str = ""
    debian: str = "12"  # the job image's, for the table


ENGINE_CELLS = {
    cell.name: cell
    for cell in (
        EngineCell("dood", note="pytest in a job container on a network of its own, with this host's engine's "
                                "socket and the checkout at /__w/psk8s/psk8s (GitHub's container: jobs)"),
        EngineCell("dind", note="pytest in a job container beside a privileged dind service on a network of "
                                "their own, reached as tcp://docker:2375, /builds shared (GitLab's docker:dind)"),
    )
}  # fmt: skip
CI_CELLS = ("c",)  # what `python -m pytest` runs (tests/hosts/test_matrix.py)
