"""The addons: cluster DNS (CoreDNS) and a default StorageClass (Rancher's
local-path provisioner), run in the cluster as kind and kubeadm run them.

Each addon names the image of ours it runs, the objects it applies once the
apiserver answers (addon_objects.py), its Deployment, and the check the cluster
waits for before a test gets it: the Deployment available, or for DNS, CoreDNS ready. Provisioned
volumes live in the cluster's directory (directory.VOLUMES), so teardown and the
reaper remove them with it.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import kubernetes.client
import kubernetes.utils

from ..common.waiting import wait_for
from .addon_objects import DNS_LABELS, DNS_READY_PORT, STORAGE_LABELS, dns, storage
from .plan import ClusterPlan

DNS, STORAGE = "dns", "storage"
REQUEST_TIMEOUT = 5
CREATE_TIMEOUT = 30  # seconds for one create: ample for a new apiserver on a busy host; a hung one fails the start
NOT_YET_TIMEOUT = 120  # seconds for the apiserver to make its namespaces and Service range (NotYet)
ROOT_CA = "kube-root-ca.crt"  # the ConfigMap in every namespace with the cluster CA's certificate


@dataclass(frozen=True)
class Addon:
    name: str
    images: tuple[str, ...]  # our images its pods run
    namespace: str
    deployment: str  # runs its pods; a failed wait shows their namespace's pods and events
    labels: dict[str, str]  # its pods'
    objects: Callable[[ClusterPlan], list[dict[str, Any]]]
    serves: Callable[[kubernetes.client.ApiClient, Addon], None]  # raises until the addon serves


def label_selector(labels: dict[str, str]) -> str:
    """A label selector for pods with all of these labels."""
    return ",".join(f"{key}={value}" for key, value in labels.items())


def available(api_client: kubernetes.client.ApiClient, addon: Addon) -> None:
    """Raises until a pod of the addon is Ready (its kubelet says so; the Deployment's status follows once the
    controller-manager runs)."""
    core = kubernetes.client.CoreV1Api(api_client)
    pods = core.list_namespaced_pod(
        addon.namespace, label_selector=label_selector(addon.labels), _request_timeout=REQUEST_TIMEOUT
    )
    for pod in pods.items:
        if any(c.type == "Ready" and c.status == "True" for c in (pod.status and pod.status.conditions) or []):
            return
    raise RuntimeError(f"no pod of {addon.namespace}/{addon.deployment} is Ready yet")


def _coredns_ready(api_client: kubernetes.client.ApiClient, addon: Addon) -> None:
    """Raises until a CoreDNS pod's own /ready answers 200, asked through the apiserver's proxy to the pod
    (the pod's address may be the engine's host's alone), as the kubelet's readiness probe asks it. The
    probe comes once a second, and its first, as the container starts, is too early: the addon's
    Deployment was available 0-1 s after CoreDNS was ready (traced)."""
    core = kubernetes.client.CoreV1Api(api_client)
    pods = core.list_namespaced_pod(
        addon.namespace, label_selector=label_selector(addon.labels), _request_timeout=REQUEST_TIMEOUT
    )
    running = [pod.metadata.name for pod in pods.items if pod.metadata and pod.status and pod.status.pod_ip]
    if not running:
        raise RuntimeError("no CoreDNS pod has an address yet")
    # A CoreDNS that is not ready answers 503, which raises.
    core.connect_get_namespaced_pod_proxy_with_path(
        f"{running[0]}:{DNS_READY_PORT}", addon.namespace, "ready", _request_timeout=REQUEST_TIMEOUT
    )


ADDONS = {
    DNS: Addon(DNS, ("coredns",), "kube-system", "coredns", DNS_LABELS, dns, _coredns_ready),
    STORAGE: Addon(
        STORAGE,
        ("local-path-provisioner", "debian"),
        "local-path-storage",
        "local-path-provisioner",
        STORAGE_LABELS,
        storage,
        available,
    ),
}
DEFAULT = (DNS, STORAGE)


def images(names: tuple[str, ...]) -> tuple[str, ...]:
    """Our images the named addons run, each once."""
    return tuple(dict.fromkeys(image for name in names for image in ADDONS[name].images))


class NotYet(Exception):
    """The new apiserver has yet to make what an object needs: its namespace (kube-system), or the Service
    range it allocates a ClusterIP from (its default ServiceCIDR). Tried again."""


def apply(
    api_client: kubernetes.client.ApiClient,
    plan: ClusterPlan,
    ca_certificate: bytes,
    cancel: threading.Event | None = None,
) -> None:
    """Create every object of the plan's addons, from the apiserver's first answer on (before /readyz): the
    pods bound to the node run as soon as the kubelet sees them (addon_objects._deployment). Each addon's
    namespace gets its kube-root-ca.crt first, as the controller-manager would publish it later: every pod's
    token volume mounts it, and a pod made before it waits in the kubelet's mount back-off."""
    published: set[str] = set()
    for name in plan.addons:
        for item in ADDONS[name].objects(plan):
            namespace = item["metadata"].get("namespace")
            if namespace and namespace not in published:
                _create(api_client, _root_ca(namespace, ca_certificate), cancel, made_already_ok=True)
                published.add(namespace)
            _create(api_client, item, cancel)


def _root_ca(namespace: str, ca_certificate: bytes) -> dict[str, Any]:
    metadata = {"name": ROOT_CA, "namespace": namespace}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"ca.crt": ca_certificate.decode()}}


def _create(
    api_client: kubernetes.client.ApiClient,
    item: dict[str, Any],
    cancel: threading.Event | None,
    made_already_ok: bool = False,
) -> None:
    """Create one object, again while the apiserver has yet to make what it needs (NotYet). With
    `made_already_ok`, one that exists already is no failure (a kube-root-ca.crt the controller-manager
    published first)."""

    def create() -> None:
        try:
            kubernetes.utils.create_from_dict(api_client, item, _request_timeout=CREATE_TIMEOUT)
        except kubernetes.utils.FailToCreateError as error:
            codes = {failure.status for failure in error.api_exceptions}
            if codes == {404} or (codes == {422} and "failed to allocate IP" in str(error)):
                raise NotYet(str(error)) from error
            if codes != {409} or not made_already_ok:
                raise

    what = f"{item['kind']} {item['metadata']['name']} to be made"
    wait_for(create, what, NOT_YET_TIMEOUT, interval=0.05, retry_on=(NotYet,), cancel=cancel)


def resolvers(resolv_conf: str) -> tuple[str, ...]:
    """The IPv4 resolvers a resolv.conf names, for CoreDNS to forward to; loopback ones left out. The one
    read is the network holder's, which the engine wrote for its default bridge from its host's own (its
    host's loopback stub replaced by the stub's upstreams), as every pod's sandbox gets it."""
    found = []
    for line in resolv_conf.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            try:
                address = ipaddress.ip_address(words[1])
            except ValueError:
                continue
            if address.version == 4 and not address.is_loopback:
                found.append(words[1])
    return tuple(found)
