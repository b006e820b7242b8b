"""The cluster's fixed names, ports and addresses: one source for every layer above the engine."""

NETWORK, ETCD, APISERVER = "network", "etcd", "kube-apiserver"
SCHEDULER, CONTROLLER_MANAGER = "kube-scheduler", "kube-controller-manager"
KUBELET, PROXY, KUBECTL = "kubelet", "kube-proxy", "kubectl"
COMPONENTS = (ETCD, APISERVER, SCHEDULER, CONTROLLER_MANAGER, KUBELET, PROXY, KUBECTL)
# What --k8s-extra-arg may give flags to: the servers. kubectl's container only sleeps, a shell for humans
# and cluster.kubectl(); kubectl's flags go on each kubectl command.
TAKES_FLAGS = tuple(component for component in COMPONENTS if component != KUBECTL)
NODE_AGENTS = (KUBELET, PROXY)  # they recreate pods and rules: the first to go at teardown
REAPER = "reaper"
DELETING = "deleting"  # the named lease of a session that deletes a kept cluster (reuse.py)
RECORD = "leftovers"  # a never-started container that keeps a cluster whose teardown left something findable

APISERVER_PORT = 6443
SCHEDULER_PORT = 10259
CONTROLLER_MANAGER_PORT = 10257
KUBELET_HEALTHZ_PORT = 10248
PROXY_HEALTHZ_PORT = 10256
SERVICE_CIDR = "10.96.0.0/16"
SERVICE_IP = "10.96.0.1"  # the `kubernetes` Service: first address of SERVICE_CIDR
CLUSTER_DNS_IP = "10.96.0.10"  # the `kube-dns` Service, as kubeadm and kind place it
CLUSTER_DOMAIN = "cluster.local"
# The name under which the control plane reaches this host (webhooks served by a test process).
HOST_NAME = "host.pytest-single-k8s.internal"
CRI_SOCKET = "unix:///run/cri-dockerd.sock"
NODE_NAME = "pytest-single-k8s"


def container_name(cluster_id: str, component: str) -> str:
    return f"pytest-single-k8s-{cluster_id}-{component}"
