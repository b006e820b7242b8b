"""Every certificate and kubeconfig of a cluster: who is who, as one table."""

from __future__ import annotations

import ipaddress

from .names import APISERVER_PORT, HOST_NAME, SERVICE_IP
from .pki import CLIENT, SERVER, Identity, Pki
from .plan import ClusterPlan

FRONT_PROXY_CLIENT = "front-proxy-client"  # the one name aggregated API servers take user headers from
APISERVER_NAMES = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "localhost",
)


def identities(plan: ClusterPlan) -> list[Identity]:
    local_names, local_ips = ("localhost",), ("127.0.0.1", plan.network_ip)
    # Where clients may reach the apiserver besides: engine/addresses.py
    extra = [name for name in (*plan.api_addresses, *plan.engine_host_ips, plan.engine_host) if name != "127.0.0.1"]
    addresses = tuple(dict.fromkeys(name for name in extra if _is_address(name)))
    names = tuple(dict.fromkeys(name for name in extra if not _is_address(name)))
    return [
        Identity(
            "apiserver",
            "kube-apiserver",
            usages=(SERVER,),
            dns_names=(*APISERVER_NAMES, *names),
            ips=(SERVICE_IP, "127.0.0.1", plan.network_ip, *addresses),
        ),
        Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", groups=("system:masters",)),
        Identity("apiserver-etcd-client", "kube-apiserver-etcd-client"),
        Identity("etcd-server", "etcd", usages=(SERVER, CLIENT), dns_names=local_names, ips=("127.0.0.1",)),
        Identity("admin", "pytest-single-k8s-admin", groups=("system:masters",)),
        # Every controller acts as the controller-manager itself (specs.controller_manager), so it needs
        # what all of them do: system:masters, as a throwaway cluster can afford.
        Identity("kube-controller-manager", "system:kube-controller-manager", groups=("system:masters",)),
        Identity("kube-scheduler", "system:kube-scheduler"),
        Identity("kubelet", f"system:node:{plan.node_name}", groups=("system:nodes",)),
        Identity("kube-proxy", "system:kube-proxy"),
        # The apiserver's client identity towards aggregated API servers (the front proxy's, as kubeadm names it).
        Identity("front-proxy-client", FRONT_PROXY_CLIENT),
        Identity("kubelet-server", plan.node_name, usages=(SERVER,), dns_names=(plan.node_name,), ips=(plan.node_ip,)),
        # For a webhook a test serves on this host (plugin fixture k8s_webhook).
        Identity("webhook-server", HOST_NAME, usages=(SERVER,), dns_names=(HOST_NAME,), ips=(plan.webhook_ip,)),
        Identity("kube-scheduler-server", "kube-scheduler", usages=(SERVER,), dns_names=local_names, ips=local_ips),
        Identity(
            "kube-controller-manager-server",
            "kube-controller-manager",
            usages=(SERVER,),
            dns_names=local_names,
            ips=local_ips,
        ),
    ]


def issue(plan: ClusterPlan) -> Pki:
    """Every identity, the service-account key pair and the components' kubeconfigs, in memory, by the
    path the components find them at (plan.pki)."""
    pki = Pki(plan.pki_directory)
    for identity in identities(plan):
        pki.issue(identity)
    pki.key_pair("service-account")
    internal = f"https://127.0.0.1:{APISERVER_PORT}"  # from inside the network container's namespace
    from_host_network = f"https://{plan.network_ip}:{APISERVER_PORT}"  # kubelet and kube-proxy
    for file, user, server in (
        ("admin-internal.kubeconfig", "admin", internal),
        ("kube-controller-manager.kubeconfig", "kube-controller-manager", internal),
        ("kube-scheduler.kubeconfig", "kube-scheduler", internal),
        ("kubelet.kubeconfig", "kubelet", from_host_network),
        ("kube-proxy.kubeconfig", "kube-proxy", from_host_network),
    ):
        pki.kubeconfig(file, user, server)
    return pki


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
