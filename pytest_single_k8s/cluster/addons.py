"""The addons: cluster DNS (CoreDNS) and a default StorageClass (Rancher's
local-path provisioner), run in the cluster as kind and kubeadm run them.

Each addon names the image of ours it runs, the objects it applies once the
apiserver answers (addon_objects.py), its Deployment, and the check the cluster
waits for before a test gets it: the Deployment available, or for DNS, CoreDNS ready. Provisioned
volumes live in the cluster's directory (directory.VOLUMES), so teardown and the
reaper remove them with it.
"""

from __future__ import annotations

import functools
import ipaddress
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import kubernetes.client
import kubernetes.utils

from ..common.waiting import wait_for
from .addon_objects import DNS_LABELS, DNS_READY_PORT, dns, storage
from .plan import ClusterPlan

DNS, STORAGE = "dns", "storage"
REQUEST_TIMEOUT = 5
CREATE_TIMEOUT = 30  # seconds for one create: ample for a new apiserver on a busy host; a hung one fails the start
NAMESPACE_TIMEOUT = 120  # seconds for the controller-manager to publish a new namespace's kube-root-ca.crt


@dataclass(frozen=True)
class Addon:
    name: str
    images: tuple[str, ...]  # our images its pods run
    namespace: str
    deployment: str  # runs its pods; a failed wait shows their namespace's pods and events
    objects: Callable[[ClusterPlan], list[dict[str, Any]]]
    serves: Callable[[kubernetes.client.ApiClient, Addon], None]  # raises until the addon serves


def available(api_client: kubernetes.client.ApiClient, addon: Addon) -> None:
    """Raises until the addon's Deployment has a ready replica."""
    apps = kubernetes.client.AppsV1Api(api_client)
    status = apps.read_namespaced_deployment_status(
        addon.deployment, addon.namespace, _request_timeout=REQUEST_TIMEOUT
    ).status
    if not status or not status.available_replicas:
        raise RuntimeError(f"deployment {addon.namespace}/{addon.deployment} has no available replica yet")


def _coredns_ready(api_client: kubernetes.client.ApiClient, addon: Addon) -> None:
    """Raises until a CoreDNS pod's own /ready answers 200, asked through the apiserver's proxy to the pod
    (the pod's address may be the engine's host's alone), as the kubelet's readiness probe asks it. The
    probe comes once a second, and its first, as the container starts, is too early: the addon's
    Deployment was available 0-1 s after CoreDNS was ready (traced)."""
    core = kubernetes.client.CoreV1Api(api_client)
    selector = ",".join(f"{key}={value}" for key, value in DNS_LABELS.items())
    pods = core.list_namespaced_pod(addon.namespace, label_selector=selector, _request_timeout=REQUEST_TIMEOUT)
    running = [pod.metadata.name for pod in pods.items if pod.metadata and pod.status and pod.status.pod_ip]
    if not running:
        raise RuntimeError("no CoreDNS pod has an address yet")
    # A CoreDNS that is not ready answers 503, which raises.
    core.connect_get_namespaced_pod_proxy_with_path(
        f"{running[0]}:{DNS_READY_PORT}", addon.namespace, "ready", _request_timeout=REQUEST_TIMEOUT
    )


ADDONS = {
    DNS: Addon(DNS, ("coredns",), "kube-system", "coredns", dns, _coredns_ready),
    STORAGE: Addon(
        STORAGE,
        ("local-path-provisioner", "debian"),
        "local-path-storage",
        "local-path-provisioner",
        storage,
        available,
    ),
}
DEFAULT = (DNS, STORAGE)


def images(names: tuple[str, ...]) -> tuple[str, ...]:
    """Our images the named addons run, each once."""
    return tuple(dict.fromkeys(image for name in names for image in ADDONS[name].images))


def apply(api_client: kubernetes.client.ApiClient, plan: ClusterPlan, cancel: threading.Event | None = None) -> None:
    """Create every object of the plan's addons. After a Namespace, wait until it has its
    kube-root-ca.crt: every pod's token volume mounts it, and a pod created before the
    controller-manager publishes it waits in the kubelet's mount back-off, which grows to minutes."""
    core = kubernetes.client.CoreV1Api(api_client)
    for name in plan.addons:
        for item in ADDONS[name].objects(plan):
            kubernetes.utils.create_from_dict(api_client, item, _request_timeout=CREATE_TIMEOUT)
            if item["kind"] == "Namespace":
                namespace = item["metadata"]["name"]
                wait_for(
                    functools.partial(
                        core.read_namespaced_config_map, "kube-root-ca.crt", namespace, _request_timeout=REQUEST_TIMEOUT
                    ),
                    f"namespace {namespace} to have kube-root-ca.crt",
                    NAMESPACE_TIMEOUT,
                    cancel=cancel,
                )


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
