"""Where this process and the engine's host reach each other: what is read from this process's
mount table, cgroup, routes and DOCKER_HOST (engine/addresses.py)."""

import pytest

from pytest_single_k8s.engine import addresses

ID = "3f" * 32
MOUNTINFO = f"""\
812 790 0:52 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X
830 812 254:1 /var/lib/docker/containers/{ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw
831 812 254:1 /var/lib/docker/containers/{ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw
"""
HOST_MOUNTINFO = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
ROUTE = """\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010012AC\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
"""


def test_a_container_is_known_by_the_engine_files_it_mounts_or_else_its_cgroup():
    assert addresses.container_id(MOUNTINFO, "0::/\n") == ID
    assert addresses.container_id(HOST_MOUNTINFO, f"0::/system.slice/docker-{ID}.scope\n") == ID
    assert addresses.container_id(HOST_MOUNTINFO, "0::/user.slice/user-0.slice/session-1.scope\n") is None


def test_the_default_gateway_is_read_from_the_routes():
    assert addresses.default_gateway(ROUTE) == "172.18.0.1"
    assert addresses.default_gateway(ROUTE.splitlines()[0] + "\n") is None


@pytest.mark.parametrize(
    ("docker_host", "host"),
    [
        ("tcp://docker:2375", "docker"),
        ("ssh://ci@build-host", "build-host"),
        ("http://build-host.test:2375", "build-host.test"),  # a Docker context's, as docker-py spells it
        ("http+unix:///Users/me/.colima/default/docker.sock", None),
        ("unix:///var/run/docker.sock", None),
        (None, None),
    ],
)
def test_a_remote_engine_s_host_is_docker_host_s(docker_host, host):
    assert addresses._host_of(docker_host) == host
