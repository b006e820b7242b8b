"""Where this process reaches what the engine's containers serve, and where they reach this process.

pytest may run on the engine's host, in a container of that engine (a CI job container with the
host's socket: docker-outside-of-docker), or anywhere the engine's API answers (GitLab's
`docker:dind` service at tcp://docker:2375, an engine in a VM). What is read here, once:

  own container   this process's container, when it is one of this engine's: the cluster's network
                  holder joins its networks, and this process reaches the apiserver at the holder's
                  address there, as a sibling on the same network would (nothing published needed)
  engine host     where the engine's published ports answer: the setting, else DOCKER_HOST's host
                  (tcp:// or ssh://), else, in this engine's container, its network's gateway, else
                  127.0.0.1 (a unix socket: the engine runs on this machine)
  this process    its address as the engine's host sees it, for webhooks the apiserver calls

Which address answers is tried at start-up (readiness.py): the first apiserver that answers wins.
Where this process is on the engine's host itself, all of it is 127.0.0.1 and Docker's bridge, as
before; nothing is published beyond loopback then.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

LOOPBACK = "127.0.0.1"
# A container's id as the engine names its files: /var/lib/docker/containers/<id>/hostname, resolv.conf, ...
_CONTAINER_FILE = re.compile(r"/containers/([0-9a-f]{64})/(?:hostname|hosts|resolv\.conf)\b")
_CGROUP = re.compile(r"(?:docker[-/]|/containers/)([0-9a-f]{64})")


@dataclass(frozen=True)
class Reach:
    engine_host: str  # where this process reaches the engine's published ports (a name or an address)
    engine_host_ips: tuple[str, ...] = ()  # its addresses where it is not loopback: NodePorts answer there
    api_bind: str = LOOPBACK  # where the apiserver's port is published on the engine's host
    shared_networks: tuple[str, ...] = ()  # this process's container's networks, which the network holder joins
    local_address: str = ""  # this process's address as the engine's host sees it ("": the engine's bridge)


def find(client: docker.DockerClient, docker_host: str | None, setting: str | None) -> Reach:
    """Where this process and the engine's host reach each other (read, not tried: see the module)."""
    own = _own_container(client)
    if own is not None:
        networks = {
            name: network
            for name, network in own.attrs["NetworkSettings"]["Networks"].items()
            if network.get("IPAddress")
        }
        first: dict[str, Any] = next(iter(networks.values()), {})
        engine_host = setting or first.get("Gateway") or default_gateway() or LOOPBACK
        return Reach(
            engine_host,
            _addresses(engine_host),
            api_bind=_PUBLIC if setting else LOOPBACK,  # siblings need nothing published
            shared_networks=tuple(networks),
            local_address=first.get("IPAddress", ""),
        )
    # A container of another engine with this one's socket is too rare to guess at (a /.dockerenv is no sign:
    # some VMs have one): the setting says where the engine's host is then.
    engine_host = setting or _host_of(docker_host)
    if not engine_host or engine_host == LOOPBACK:
        return Reach(LOOPBACK)
    return Reach(engine_host, _addresses(engine_host), _PUBLIC, local_address=_local_address(engine_host))


_PUBLIC = "0.0.0.0"  # every address of the engine's host: TLS with client certificates guards the apiserver


def _addresses(host: str) -> tuple[str, ...]:
    """The IPv4 addresses of `host` (as this process resolves it), loopback left out."""
    try:
        found = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        return ()
    return tuple(dict.fromkeys(str(entry[4][0]) for entry in found if not str(entry[4][0]).startswith("127.")))


def _host_of(docker_host: str | None) -> str | None:
    """DOCKER_HOST's host for tcp:// and ssh:// engines (tcp://docker:2375 -> docker); None for sockets."""
    if not docker_host:
        return None
    parsed = urllib.parse.urlsplit(docker_host)
    return parsed.hostname if parsed.scheme in ("tcp", "ssh", "http", "https") else None


def _own_container(client: docker.DockerClient) -> Any:
    """This process's container, if it is one of this engine's."""
    found = container_id(_read("/proc/self/mountinfo"), _read("/proc/self/cgroup"))
    if found is None:
        return None
    try:
        return client.containers.get(found)
    except docker.errors.NotFound:  # a container of another engine (the job beside a dind service)
        return None


def container_id(mountinfo: str, cgroup: str) -> str | None:
    """The container id a process's mount table (the engine's files it mounts) or cgroup names."""
    match = _CONTAINER_FILE.search(mountinfo) or _CGROUP.search(cgroup)
    return match.group(1) if match else None


def default_gateway(route: str | None = None) -> str | None:
    """The IPv4 default route's gateway (/proc/net/route), or None."""
    for line in (route if route is not None else _read("/proc/net/route")).splitlines()[1:]:
        fields = line.split()
        if len(fields) > 2 and fields[1] == "00000000" and fields[2] != "00000000":
            return str(ipaddress.IPv4Address(bytes.fromhex(fields[2])[::-1]))
    return None


def _local_address(peer: str) -> str:
    """This process's source address towards `peer` (a UDP socket sends nothing when it connects)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((peer, 9))
            return str(probe.getsockname()[0])
    except OSError:
        return ""


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
