"""The addons' objects, as data made from a plan: CoreDNS behind the kube-dns Service, and Rancher's
local-path provisioner with the default StorageClass (addons.py applies them and waits for them)."""

from __future__ import annotations

import json
from typing import Any

from .directory import VOLUMES
from .names import APISERVER_PORT, CLUSTER_DNS_IP, CLUSTER_DOMAIN
from .plan import ClusterPlan

DNS_LABELS = {"k8s-app": "kube-dns"}
STORAGE_LABELS = {"app": "local-path-provisioner"}
DNS_READY_PORT = 8181  # CoreDNS's own /ready
TEMPLATE_HASH_LABEL, TEMPLATE_HASH = "pod-template-hash", "0"  # the ReplicaSet made beside a Deployment (_deployment)


def _meta(name: str, namespace: str | None = None, **labels: str) -> dict[str, Any]:
    return {"name": name, **({"namespace": namespace} if namespace else {}), **({"labels": labels} if labels else {})}


def _deployment(
    name: str, namespace: str, labels: dict[str, str], pod: dict[str, Any], node: str
) -> list[dict[str, Any]]:
    """The addon's Deployment, and what its controllers would make of it, made at once and in this order: its
    one pod, bound to the node, then the ReplicaSet (the Deployment's template, labelled with TEMPLATE_HASH), then
    the Deployment. The pod runs as soon as the kubelet sees it, before the controller-manager and the scheduler
    do; once they run, the ReplicaSet adopts the pod (made first, so that it never makes one of its own) and the
    Deployment the ReplicaSet (the same template but for the hash). A deleted pod is made again by them."""
    hashed = {**labels, TEMPLATE_HASH_LABEL: TEMPLATE_HASH}
    replica_set = f"{name}-{TEMPLATE_HASH}"
    return [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": _meta(f"{replica_set}-0", namespace, **hashed),
            "spec": {**pod, "nodeName": node},
        },
        _one_replica("ReplicaSet", replica_set, namespace, hashed, pod),
        _one_replica("Deployment", name, namespace, labels, pod),
    ]


def _one_replica(kind: str, name: str, namespace: str, labels: dict[str, str], pod: dict[str, Any]) -> dict[str, Any]:
    """A Deployment or ReplicaSet of one pod with these labels."""
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": _meta(name, namespace, **labels),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


def _apiserver_direct(plan: ClusterPlan) -> list[dict[str, str]]:
    """The apiserver's own address for a client in a pod (in-cluster configuration reads these), not the
    `kubernetes` Service's: the addons start before kube-proxy has its rules (and would wait in their clients'
    back-off, or exit, as the provisioner does), and the apiserver's certificate names this address too."""
    return [
        {"name": "KUBERNETES_SERVICE_HOST", "value": plan.network_ip},
        {"name": "KUBERNETES_SERVICE_PORT", "value": str(APISERVER_PORT)},
    ]


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


def dns(plan: ClusterPlan) -> list[dict[str, Any]]:
    namespace, labels = "kube-system", DNS_LABELS
    read = ["list", "watch"]
    rules = [
        {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"], "verbs": read},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": read},
    ]
    dns_ports = [("dns", "UDP"), ("dns-tcp", "TCP")]
    pod = {
        "serviceAccountName": "coredns",
        "dnsPolicy": "Default",  # its own names come from the node, not from itself
        "containers": [
            {
                "name": "coredns",
                "image": plan.images["coredns"],
                "imagePullPolicy": "Never",
                "args": ["-conf", "/etc/coredns/Corefile"],
                "env": _apiserver_direct(plan),
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
        *_deployment("coredns", namespace, labels, pod, plan.node_name),
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


def storage(plan: ClusterPlan) -> list[dict[str, Any]]:
    namespace, account, labels = "local-path-storage", "local-path-provisioner", STORAGE_LABELS
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
                # The command, not only its arguments: the official image names none as its entrypoint.
                "command": [
                    "local-path-provisioner",
                    "start",
                    "--config",
                    "/etc/config/config.json",
                    "--service-account-name",
                    account,
                ],  # fmt: skip
                "env": [
                    {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                    *_apiserver_direct(plan),
                ],
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
        *_deployment("local-path-provisioner", namespace, labels, pod, plan.node_name),
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
