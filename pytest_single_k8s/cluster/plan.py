"""The plan of a cluster, as data: its id, directory, versions, images, addresses and the
engine's facts. specs.py makes every container from it; the executors (create,
teardown) carry it out. A plan is frozen and knows nothing of Docker's API.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..engine.addresses import LOOPBACK
from ..engine.labels import (
    CLUSTER_LABEL,
    COMPONENT_LABEL,
    DIRECTORY_LABEL,
    KEPT_LABEL,
    OWNER_LABEL,
    REPOSITORY,
    USER_LABEL,
)
from . import by_minor
from .names import NODE_NAME, container_name

# The code that lays a cluster out: a kept cluster that other code made is not attached.
LAYOUT = hashlib.sha256(
    b"".join(
        (Path(__file__).parent / name).read_bytes()
        for name in ("specs.py", "configs.py", "certificates.py", "addons.py", "addon_objects.py")
    )
).hexdigest()[:16]


@dataclass(frozen=True)
class ClusterPlan:
    cluster_id: str
    directory: Path  # on the engine's host (directory.py); pki/ and etc/ are paths in the components' own files
    version: str  # a resolved release, e.g. v1.37.2
    images: dict[str, str]  # refs by image name (kubernetes, etcd, pause)
    owner: str  # ownership.current() of the process that made the plan
    network_ip: str  # the `network` container's address: the apiserver advertises it
    node_ip: str  # the host's address on Docker's default bridge
    pod_cidr: str  # the default bridge's subnet, where pods get their addresses
    cgroup_driver: str  # Docker's: systemd or cgroupfs; cri-dockerd reports it and the kubelet follows
    cgroup_version: int  # 1 or 2
    docker_socket: str
    docker_root: str
    apiserver_host_port: int | None = None  # None: Docker picks a free port
    node_name: str = NODE_NAME
    extra_args: dict[str, tuple[str, ...]] = field(default_factory=dict)
    keep: bool = False  # outlives its owner until `down` (or a session with other settings) deletes it
    addons: tuple[str, ...] = ()  # addons.ADDONS by name, e.g. ("dns", "storage")
    upstream_dns: tuple[str, ...] = ()  # the host's resolvers, where cluster DNS forwards other names
    user: str = ""  # ownership.user() of the process that made the plan ("": a state file of older code)
    # Where the process that made the plan and the engine's host reach each other (engine/addresses.py):
    api_bind: str = LOOPBACK  # where the apiserver's port is published on the engine's host
    engine_host: str = LOOPBACK  # where that process reaches published ports (a name or an address)
    engine_host_ips: tuple[str, ...] = ()  # engine_host's addresses, if not loopback: NodePorts answer there too
    api_addresses: tuple[str, ...] = ()  # more names and addresses of the apiserver, for its certificate
    webhook_address: str = ""  # where the cluster reaches that process ("": node_ip, on the engine's host)
    shared_networks: tuple[str, ...] = ()  # that process's container's networks, which the network holder joins

    def fingerprint(self) -> str:
        """What a session asks of a cluster: another session attaches to a kept cluster with the same.
        The image refs are content-addressed, so they stand for the versions and every build input."""
        asked = {
            "images": self.images,
            "api_port": self.apiserver_host_port,
            "extra_args": self.extra_args,
            "addons": self.addons,
            "layout": LAYOUT,
        }
        return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def minor(self) -> int:
        return int(self.version.split(".")[1])

    def container_name(self, component: str) -> str:
        return container_name(self.cluster_id, component)

    def labels(self, component: str) -> dict[str, str]:
        return {CLUSTER_LABEL: self.cluster_id, COMPONENT_LABEL: component, **self.whose()}

    def whose(self) -> dict[str, str]:
        """The labels every container of the cluster carries, the reaper's too: whose it is, where it lives."""
        return {
            OWNER_LABEL: self.owner,
            USER_LABEL: self.user,
            DIRECTORY_LABEL: str(self.directory),
            **self.kept(),
        }

    def kept(self) -> dict[str, str]:
        """The label that marks a kept cluster, with the fingerprint of its settings."""
        return {KEPT_LABEL: self.fingerprint()} if self.keep else {}

    @property
    def pki_directory(self) -> str:
        """Where the components find their keys, certificates and kubeconfigs: in their own filesystems."""
        return str(self.directory / "pki")

    def pki(self, name: str) -> str:
        return f"{self.pki_directory}/{name}"

    def etc(self, name: str) -> str:
        return str(self.directory / "etc" / name)

    @property
    def sandbox_image(self) -> str:
        """The image of this cluster's pod sandboxes: our pause image with the cluster's id (pods.py)."""
        return f"{REPOSITORY}/sandbox:{self.cluster_id}"

    @property
    def node_address(self) -> str:
        """Where the process that made the plan reaches NodePorts: the engine's host as it reaches it."""
        return self.engine_host_ips[0] if self.engine_host_ips else self.node_ip

    @property
    def webhook_ip(self) -> str:
        return self.webhook_address or self.node_ip

    @property
    def kubelet_root(self) -> str:
        return str(self.directory / "kubelet")

    def feature_gates(self) -> dict[str, bool]:
        """The feature gates of this version's apiserver and kubelet (by_minor.py)."""
        return by_minor.feature_gates(self.minor)
