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
    # The engine only: pytest on this host drives it across TCP (vm.run_remote), instead of a job inside.
    remote: bool = False

    @property
    def packages(self) -> tuple[str, ...]:
        return BASE_PACKAGES + self.extra_packages

    def daemon_json(self) -> str:
        return json.dumps(self.daemon, indent=2, sort_keys=True)


# A remote cell's link to this host: a tap device here, the VM's static address there (dockerd on 2375).
TAP, HOST_ADDRESS, GUEST_ADDRESS, PREFIX_LENGTH = "psk8s-vm0", "10.213.0.1", "10.213.0.2", 24

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
        # Its containers' resolver is this host's end of the link, where nothing answers: no query leaves.
        Cell("vm", "14", "forky", extra_packages=("docker-cli", "iproute2"), apt_options=UNDATED, remote=True,
             daemon={"dns": [HOST_ADDRESS]},
             note=f"the engine in a VM (systemd, cgroup v2, Docker 28), pytest on this host reaching it as "
                  f"tcp://{GUEST_ADDRESS}:2375 through the Docker context in use (colima, Lima, a build host)"),
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
# What else users touch, where pytest is not on the engine's host: the command line, a kept cluster attached
# to by later sessions and by its kubeconfig, SIGKILL and Ctrl-C, diagnostics in reports. (Not the session in
# a PID namespace of its own: an unprivileged job container cannot make one.)
MORE_TESTS = " ".join(
    [
        "tests/integration/test_cli_and_kubeconfig.py",
        "tests/integration/test_keep_and_reuse.py",
        "tests/integration/test_interruptions.py",
        "tests/integration/test_diagnostics.py",
        "--deselect=tests/integration/test_interruptions.py::"
        "test_a_killed_session_in_a_pid_namespace_of_its_own_is_reaped",
    ]
)
CI_CELLS = ("c",)  # what `python -m pytest` runs (tests/hosts/test_matrix.py)
