"""The addons, as data: cluster DNS (CoreDNS) and a default StorageClass (Rancher's
local-path provisioner), run in the cluster as kind and kubeadm run them.

Each addon names the image of ours it runs, the objects it applies once the
apiserver answers, its Deployment, and the check the cluster waits for before a
test gets it: the Deployment available, or for DNS, CoreDNS ready. Provisioned
volumes live in the cluster's directory (directory.VOLUMES), so teardown and the
reaper remove them with it.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes.client
import kubernetes.utils

from ..common import direct
from ..common.waiting import wait_for
from .directory import VOLUMES
from .names import CLUSTER_DNS_IP, CLUSTER_DOMAIN
from .plan import ClusterPlan

DNS, STORAGE = "dns", "storage"
REQUEST_TIMEOUT = 5
CREATE_TIMEOUT = 30  # seconds for one create: ample for a new apiserver on a busy host; a hung one fails the start
NAMESPACE_TIMEOUT = 120  # seconds for the controller-manager to publish a new namespace's kube-root-ca.crt
DNS_LABELS = {"k8s-app": "kube-dns"}
DNS_READY_PORT = 8181  # CoreDNS's own /ready


@dataclass(frozen=True)
class Addon:
    name: str
    images: tuple[str, ...]  # our images its pods run
    namespace: str
    deployment: str  # runs its pods; a failed wait shows their namespace's pods and events
    objects: Callable[[ClusterPlan], list[dict[str, Any]]]
    serves: Callable[[kubernetes.client.ApiClient, Addon], None]  # raises until the addon serves


def _meta(name: str, namespace: str | None = None, **labels: str) -> dict[str, Any]:
    return {"name": name, **({"namespace": namespace} if namespace else {}), **({"labels": labels} if labels else {})}


def _deployment(name: str, namespace: str, labels: dict[str, str], pod: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, namespace, **labels),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


def _access(name: str, namespace: str, account: str, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A ServiceAccount and a ClusterRole with `rules` bound to it."""
    rbac = "rbac.authorization.k8s.io/v1"
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(account, namespace)},
        {"apiVersion": rbac, "kind": "ClusterRole", "metadata": _meta(name), "rules": rules},
        {
            "apiVersion": rbac,
            "kind": "ClusterRoleBinding",
            "metadata": _meta(name),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
        },
    ]


def corefile(upstreams: tuple[str, ...]) -> str:
    """Cluster names from the API; everything else to the host's resolvers, where it has any."""
    forward = f"    forward . {' '.join(upstreams)}\n" if upstreams else ""
    return (
        ".:53 {\n"
        "    errors\n"
        f"    ready :{DNS_READY_PORT}\n"
        f"    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{\n"
        "        pods insecure\n"
        "        fallthrough in-addr.arpa ip6.arpa\n"
        "        ttl 30\n"
        "    }\n"
        f"{forward}"
        "    cache 30\n"
        "    loadbalance\n"
        "}\n"
    )


def _dns(plan: ClusterPlan) -> list[dict[str, Any]]:
    namespace, labels = "kube-system", DNS_LABELS
    read = ["list", "watch"]
    rules = [
        {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"], "verbs": read},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": read},
    ]
    dns_ports = [("dns", "UDP"), ("dns-tcp", "TCP")]
    pod = {
        "serviceAccountName": "coredns",
        "priorityClassName": "system-cluster-critical",
        "dnsPolicy": "Default",  # its own names come from the node, not from itself
        "containers": [
            {
                "name": "coredns",
                "image": plan.images["coredns"],
                "imagePullPolicy": "Never",
                "args": ["-conf", "/etc/coredns/Corefile"],
                "ports": [{"name": name, "containerPort": 53, "protocol": protocol} for name, protocol in dns_ports],
                "readinessProbe": {"httpGet": {"path": "/ready", "port": DNS_READY_PORT}, "periodSeconds": 1},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                },
                "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
            }
        ],
        "volumes": [{"name": "config", "configMap": {"name": "coredns"}}],
    }
    return [
        *_access("system:coredns", namespace, "coredns", rules),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("coredns", namespace),
            "data": {"Corefile": corefile(plan.upstream_dns)},
        },
        _deployment("coredns", namespace, labels, pod),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta("kube-dns", namespace, **labels),
            "spec": {
                "clusterIP": CLUSTER_DNS_IP,
                "selector": labels,
                # From the moment CoreDNS serves, as the cluster's wait has it (_coredns_ready), not only from the
                # kubelet's next readiness probe; with one replica there is no ready one to prefer meanwhile.
                "publishNotReadyAddresses": True,
                "ports": [{"name": name, "port": 53, "protocol": protocol} for name, protocol in dns_ports],
            },
        },
    ]


def _storage(plan: ClusterPlan) -> list[dict[str, Any]]:
    namespace, account, labels = "local-path-storage", "local-path-provisioner", {"app": "local-path-provisioner"}
    everything, read = ["*"], ["get", "list", "watch"]
    rules = [
        {"apiGroups": [""], "resources": ["nodes", "persistentvolumeclaims", "configmaps"], "verbs": read},
        {"apiGroups": [""], "resources": ["endpoints", "persistentvolumes", "pods"], "verbs": everything},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
        {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": read},
    ]
    volumes = str(plan.directory / VOLUMES)
    config = {"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": [volumes]}]}
    # The helper pod makes and removes one volume's directory ($VOL_DIR) on the node.
    helper = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "helper-pod"},
        "spec": {"containers": [{"name": "helper", "image": plan.images["debian"], "imagePullPolicy": "Never"}]},
    }
    pod = {
        "serviceAccountName": account,
        "containers": [
            {
                "name": "provisioner",
                "image": plan.images["local-path-provisioner"],
                "imagePullPolicy": "Never",
                "args": ["start", "--config", "/etc/config/config.json", "--service-account-name", account],
                "env": [{"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
                "volumeMounts": [{"name": "config", "mountPath": "/etc/config", "readOnly": True}],
            }
        ],
        "volumes": [{"name": "config", "configMap": {"name": "local-path-config"}}],
    }
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(namespace)},
        *_access("local-path-provisioner", namespace, account, rules),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("local-path-config", namespace),
            "data": {
                "config.json": json.dumps(config),
                "setup": '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
                "teardown": '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
                "helperPod.yaml": json.dumps(helper),  # JSON is YAML
            },
        },
        _deployment("local-path-provisioner", namespace, labels, pod),
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "local-path",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "rancher.io/local-path",
            "volumeBindingMode": "WaitForFirstConsumer",
            "reclaimPolicy": "Delete",
        },
    ]


def available(api_client: kubernetes.client.ApiClient, addon: Addon) -> None:
    """Raises until the addon's Deployment has a ready replica."""
    apps = kubernetes.client.AppsV1Api(api_client)
    status = apps.read_namespaced_deployment_status(
        addon.deployment, addon.namespace, _request_timeout=REQUEST_TIMEOUT
    ).status
    if not status or not status.available_replicas:
        raise RuntimeError(f"deployment {addon.namespace}/{addon.deployment} has no available replica yet")


def _coredns_ready(api_client: kubernetes.client.ApiClient, addon: Addon) -> None:
    """Raises until a CoreDNS pod's own /ready answers 200, asked at the pod's address from this host, as
    the kubelet's readiness probe asks it. The probe comes once a second, and its first, as the container
    starts, is too early: the addon's Deployment was available 0-1 s after CoreDNS was ready (traced)."""
    core = kubernetes.client.CoreV1Api(api_client)
    selector = ",".join(f"{key}={value}" for key, value in DNS_LABELS.items())
    pods = core.list_namespaced_pod(addon.namespace, label_selector=selector, _request_timeout=REQUEST_TIMEOUT)
    addresses = [pod.status.pod_ip for pod in pods.items if pod.status and pod.status.pod_ip]
    if not addresses:
        raise RuntimeError("no CoreDNS pod has an address yet")
    with direct.opener().open(f"http://{addresses[0]}:{DNS_READY_PORT}/ready", timeout=REQUEST_TIMEOUT) as response:
        response.read()  # 200: a CoreDNS that is not ready answers 503, which raises


ADDONS = {
    DNS: Addon(DNS, ("coredns",), "kube-system", "coredns", _dns, _coredns_ready),
    STORAGE: Addon(
        STORAGE,
        ("local-path-provisioner", "debian"),
        "local-path-storage",
        "local-path-provisioner",
        _storage,
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


def host_resolvers(resolv_conf: Path = Path("/etc/resolv.conf")) -> tuple[str, ...]:
    """The IPv4 resolvers this host uses, for CoreDNS to forward to: loopback ones (a local stub such as
    systemd-resolved's) are unreachable from a pod, so the stub's own upstreams are taken instead."""
    found = _nameservers(resolv_conf)
    if found and all(ipaddress.ip_address(address).is_loopback for address in found):
        found = _nameservers(Path("/run/systemd/resolve/resolv.conf"))
    return tuple(address for address in found if not ipaddress.ip_address(address).is_loopback)


def _nameservers(path: Path) -> list[str]:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            try:
                if ipaddress.ip_address(words[1]).version == 4:
                    found.append(words[1])
            except ValueError:
                continue
    return found
