"""The node agents' configuration files (KubeletConfiguration, KubeProxyConfiguration), from a plan."""

from __future__ import annotations

import json
from typing import Any

from .directory import POD_LOGS
from .names import CLUSTER_DNS_IP, CLUSTER_DOMAIN, CRI_SOCKET, KUBELET_HEALTHZ_PORT, PROXY_HEALTHZ_PORT
from .plan import ClusterPlan


def kubelet(plan: ClusterPlan) -> dict[str, Any]:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": plan.node_ip,  # the apiserver reaches the kubelet here; not on external addresses
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": KUBELET_HEALTHZ_PORT,
        "tlsCertFile": plan.pki("kubelet-server.crt"),
        "tlsPrivateKeyFile": plan.pki("kubelet-server.key"),
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": plan.pki("ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "cgroupDriver": plan.cgroup_driver,
        "cgroupsPerQOS": True,
        "enforceNodeAllocatable": [],
        "containerRuntimeEndpoint": CRI_SOCKET,
        # The user's local images are the point: never garbage-collect or evict them.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"imagefs.available": "0%", "nodefs.available": "0%", "nodefs.inodesFree": "0%"},
        "failSwapOn": False,
        "oomScoreAdj": 0,  # a negative score needs CAP_SYS_RESOURCE, which some hosts cannot grant
        "clusterDomain": CLUSTER_DOMAIN,
        # Pods ask the cluster's DNS where the dns addon runs it (addons.py).
        **({"clusterDNS": [CLUSTER_DNS_IP]} if "dns" in plan.addons else {}),
        "podLogsDir": str(plan.directory / POD_LOGS),
        "serializeImagePulls": False,
        # Quick status and pod updates for a one-node test cluster.
        "nodeStatusUpdateFrequency": "4s",
        "nodeStatusReportFrequency": "10s",
        "syncFrequency": "10s",
        "fileCheckFrequency": "10s",
        "featureGates": plan.feature_gates(),
        # 1.35+ refuse cgroup v1 unless told otherwise (1.34 reads the field too); v1 hosts are supported.
        **({"failCgroupV1": False} if plan.cgroup_version == 1 else {}),
    }


def proxy(plan: ClusterPlan) -> dict[str, Any]:
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clientConnection": {"kubeconfig": plan.pki("kube-proxy.kubeconfig")},
        "hostnameOverride": plan.node_name,
        "clusterCIDR": plan.pod_cidr,
        "healthzBindAddress": f"127.0.0.1:{PROXY_HEALTHZ_PORT}",
        "metricsBindAddress": "127.0.0.1:10249",
        # NodePorts answer on the bridge address only, and where the process that made the cluster reaches the
        # engine's host (engine/addresses.py): not on other addresses.
        "nodePortAddresses": [f"{address}/32" for address in (plan.node_ip, *plan.engine_host_ips)],
        "iptables": {"minSyncPeriod": "100ms", "syncPeriod": "30s", "localhostNodePorts": False},
        # Leave the host's conntrack sysctls and OOM scores alone.
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
        "oomScoreAdj": 0,
    }


def files(plan: ClusterPlan) -> dict[str, str]:
    """File name under plan.directory/etc -> content."""
    return {"kubelet.json": json.dumps(kubelet(plan), indent=2), "kube-proxy.json": json.dumps(proxy(plan), indent=2)}
