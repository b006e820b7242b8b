"""The plan of a cluster: every container's image, command, mounts and network, as data.

Nothing here talks to Docker; `cluster.py` carries the plan out. The layout:

- `network`: a pause container on Docker's default bridge that owns the control
  plane's network namespace and publishes the apiserver on 127.0.0.1 only. etcd,
  kube-apiserver, kube-scheduler, kube-controller-manager and kubectl join it, so
  they talk over loopback, a restarted component keeps the address, and pods (on
  the same bridge) reach the apiserver through the `kubernetes` Service at the
  address it advertises.
- `kubelet` (with cri-dockerd) and `kube-proxy` use the host's network, PID and
  netfilter, as a node's agents must.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

LABEL = "io.github.pytest-single-k8s"
CLUSTER_LABEL = f"{LABEL}.cluster"
COMPONENT_LABEL = f"{LABEL}.component"
OWNER_LABEL = f"{LABEL}.owner"
DIRECTORY_LABEL = f"{LABEL}.directory"
REAPER_LABEL = f"{LABEL}.reaper"  # the reaper of a cluster: not a component, removed last
# The reaper's fixed name makes it the engine's lock: Docker refuses a second
# container of that name, so two sessions can never both start a cluster.
REAPER_NAME = "pytest-single-k8s-reaper"
POD_UID_LABEL = "io.kubernetes.pod.uid"  # cri-dockerd's label on every pod container
HELPER_LABEL = f"{LABEL}.helper"  # one-shot helper containers
DIRECTORY_PREFIX = "pytest-single-k8s-"  # cluster directories are made in the temporary directory with it

NETWORK, ETCD, APISERVER = "network", "etcd", "kube-apiserver"
SCHEDULER, CONTROLLER_MANAGER = "kube-scheduler", "kube-controller-manager"
KUBELET, PROXY, KUBECTL = "kubelet", "kube-proxy", "kubectl"
COMPONENTS = (ETCD, APISERVER, SCHEDULER, CONTROLLER_MANAGER, KUBELET, PROXY, KUBECTL)

APISERVER_PORT = 6443
SCHEDULER_PORT = 10259
CONTROLLER_MANAGER_PORT = 10257
KUBELET_HEALTHZ_PORT = 10248
PROXY_HEALTHZ_PORT = 10256
SERVICE_CIDR = "10.96.0.0/16"
SERVICE_IP = "10.96.0.1"  # the `kubernetes` Service: first address of SERVICE_CIDR
CRI_SOCKET = "unix:///run/cri-dockerd.sock"


@dataclass(frozen=True)
class ContainerSpec:
    component: str
    image: str
    command: list[str]
    network_mode: str
    privileged: bool = False
    pid_mode: str | None = None
    volumes: list[str] = field(default_factory=list)  # "host:container:mode"
    ports: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterPlan:
    cluster_id: str
    directory: Path  # 0700; holds pki/, etc/, etcd/, kubelet/, pod-logs/
    version: str  # a resolved release, e.g. v1.37.2
    images: dict[str, str]  # refs by image name (kubernetes, etcd, pause)
    network_ip: str  # the `network` container's address: the apiserver advertises it
    node_ip: str  # the host's address on Docker's default bridge
    pod_cidr: str  # the default bridge's subnet, where pods get their addresses
    cgroup_driver: str
    docker_socket: str
    docker_root: str
    apiserver_host_port: int | None = None  # None: Docker picks a free port
    node_name: str = "pytest-single-k8s"
    extra_args: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def minor(self) -> int:
        return int(self.version.split(".")[1])

    def container_name(self, component: str) -> str:
        return f"pytest-single-k8s-{self.cluster_id}-{component}"

    def labels(self, component: str, owner: str) -> dict[str, str]:
        return {CLUSTER_LABEL: self.cluster_id, COMPONENT_LABEL: component, OWNER_LABEL: owner,
                DIRECTORY_LABEL: str(self.directory)}

    def pki(self, name: str) -> str:
        return str(self.directory / "pki" / name)

    def etc(self, name: str) -> str:
        return str(self.directory / "etc" / name)

    @property
    def kubelet_root(self) -> str:
        return str(self.directory / "kubelet")

    def websocket_gate(self) -> dict[str, bool]:
        """cri-dockerd's streaming server speaks SPDY only; 1.36+ would try WebSockets to the kubelet."""
        return {"ExtendWebSocketsToKubelet": False} if self.minor >= 36 else {}

    # -- the containers ------------------------------------------------------

    def specs(self) -> list[ContainerSpec]:
        return [self.network(), self.etcd(), self.apiserver(), self.scheduler(), self.controller_manager(),
                self.kubelet(), self.proxy(), self.kubectl()]

    def _in_network(self, component: str, image: str, command: list[str], volumes: list[str] | None = None
                    ) -> ContainerSpec:
        pki = f"{self.directory / 'pki'}:{self.directory / 'pki'}:ro"
        return ContainerSpec(
            component, image, [*command, *self.extra_args.get(component, ())],
            network_mode=f"container:{self.container_name(NETWORK)}", volumes=[pki, *(volumes or [])],
        )

    def network(self) -> ContainerSpec:
        return ContainerSpec(
            NETWORK, self.images["pause"], [], network_mode="bridge",
            ports={f"{APISERVER_PORT}/tcp": ("127.0.0.1", self.apiserver_host_port)},
        )

    def etcd(self) -> ContainerSpec:
        data = self.directory / "etcd"
        return self._in_network(ETCD, self.images["etcd"], [
            "etcd", "--name=pytest-single-k8s", f"--data-dir={data}",
            "--listen-client-urls=https://127.0.0.1:2379", "--advertise-client-urls=https://127.0.0.1:2379",
            "--listen-peer-urls=https://127.0.0.1:2380", "--initial-advertise-peer-urls=https://127.0.0.1:2380",
            "--initial-cluster=pytest-single-k8s=https://127.0.0.1:2380",
            f"--cert-file={self.pki('etcd-server.crt')}", f"--key-file={self.pki('etcd-server.key')}",
            f"--trusted-ca-file={self.pki('ca.crt')}", "--client-cert-auth=true",
            f"--peer-cert-file={self.pki('etcd-server.crt')}", f"--peer-key-file={self.pki('etcd-server.key')}",
            f"--peer-trusted-ca-file={self.pki('ca.crt')}", "--peer-client-cert-auth=true",
            "--unsafe-no-fsync=true",  # a throwaway cluster needs no durability, and fsync dominates start-up
            "--log-level=warn",
        ], volumes=[f"{data}:{data}:rw"])

    def apiserver(self) -> ContainerSpec:
        return self._in_network(APISERVER, self.images["kubernetes"], [
            "kube-apiserver", f"--advertise-address={self.network_ip}", f"--secure-port={APISERVER_PORT}",
            "--etcd-servers=https://127.0.0.1:2379", f"--etcd-cafile={self.pki('ca.crt')}",
            f"--etcd-certfile={self.pki('apiserver-etcd-client.crt')}",
            f"--etcd-keyfile={self.pki('apiserver-etcd-client.key')}",
            f"--client-ca-file={self.pki('ca.crt')}",
            f"--tls-cert-file={self.pki('apiserver.crt')}", f"--tls-private-key-file={self.pki('apiserver.key')}",
            f"--kubelet-client-certificate={self.pki('apiserver-kubelet-client.crt')}",
            f"--kubelet-client-key={self.pki('apiserver-kubelet-client.key')}",
            f"--kubelet-certificate-authority={self.pki('ca.crt')}",
            "--kubelet-preferred-address-types=InternalIP",
            "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
            f"--service-account-key-file={self.pki('service-account.pub')}",
            f"--service-account-signing-key-file={self.pki('service-account.key')}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}", "--allow-privileged=true", "--profiling=false",
            *_gates(self.websocket_gate()),
        ])

    def scheduler(self) -> ContainerSpec:
        kubeconfig = self.pki("kube-scheduler.kubeconfig")
        return self._in_network(SCHEDULER, self.images["kubernetes"], [
            "kube-scheduler", f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}", "--leader-elect=false", f"--secure-port={SCHEDULER_PORT}",
            f"--tls-cert-file={self.pki('kube-scheduler-server.crt')}",
            f"--tls-private-key-file={self.pki('kube-scheduler-server.key')}", "--profiling=false",
            "--kube-api-qps=500", "--kube-api-burst=1000",
        ])

    def controller_manager(self) -> ContainerSpec:
        kubeconfig = self.pki("kube-controller-manager.kubeconfig")
        return self._in_network(CONTROLLER_MANAGER, self.images["kubernetes"], [
            "kube-controller-manager", f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}", "--leader-elect=false",
            f"--secure-port={CONTROLLER_MANAGER_PORT}",
            f"--tls-cert-file={self.pki('kube-controller-manager-server.crt')}",
            f"--tls-private-key-file={self.pki('kube-controller-manager-server.key')}",
            f"--service-account-private-key-file={self.pki('service-account.key')}",
            f"--root-ca-file={self.pki('ca.crt')}", "--use-service-account-credentials=true",
            f"--service-cluster-ip-range={SERVICE_CIDR}", "--allocate-node-cidrs=false",
            "--controllers=*,-bootstrapsigner,-tokencleaner", "--profiling=false",
            # Building ~40 controllers makes ~80 requests; at the default 20 QPS
            # the client-side limiter alone delayed the first ServiceAccount by 5 s.
            "--kube-api-qps=500", "--kube-api-burst=1000",
        ])

    def kubectl(self) -> ContainerSpec:
        spec = self._in_network(KUBECTL, self.images["kubernetes"], ["sleep", "infinity"])
        return dataclasses.replace(spec, environment={"KUBECONFIG": self.pki("admin-internal.kubeconfig")})

    def kubelet(self) -> ContainerSpec:
        root, logs = self.kubelet_root, str(self.directory / "pod-logs")
        cri_dockerd = [
            "cri-dockerd", f"--container-runtime-endpoint={CRI_SOCKET}", "--network-plugin=",
            f"--pod-infra-container-image={self.images['pause']}", "--docker-endpoint=unix:///var/run/docker.sock",
            f"--cri-dockerd-root-directory={self.directory / 'cri-dockerd'}", "--log-level=warn",
            # exec/attach/port-forward streams: the kubelet beside it is the only client (default: all addresses)
            "--streaming-bind-addr=127.0.0.1:0",
        ]
        kubelet = [
            f"--config={self.etc('kubelet.json')}", f"--kubeconfig={self.pki('kubelet.kubeconfig')}",
            f"--root-dir={root}", f"--hostname-override={self.node_name}", f"--node-ip={self.node_ip}",
            *self.extra_args.get(KUBELET, ()),
        ]
        return ContainerSpec(
            KUBELET, self.images["kubernetes"], ["node", *cri_dockerd[1:], "--", *kubelet],
            network_mode="host", pid_mode="host", privileged=True,
            volumes=[
                f"{self.directory / 'pki'}:{self.directory / 'pki'}:ro",
                f"{self.directory / 'etc'}:{self.directory / 'etc'}:ro",
                f"{self.directory / 'cri-dockerd'}:{self.directory / 'cri-dockerd'}:rw",
                f"{logs}:{logs}:rw",
                # Same path inside and out, rshared: volumes the kubelet mounts
                # (secrets, tokens) must be seen by the engine that starts pods.
                f"{root}:{root}:rshared",
                f"{self.docker_socket}:/var/run/docker.sock:rw",
                # cri-dockerd links pod logs to the engine's json log files and rewrites sandboxes' resolv.conf.
                f"{self.docker_root}:{self.docker_root}:rw",
                "/sys/fs/cgroup:/sys/fs/cgroup:rw",
                "/lib/modules:/lib/modules:ro",
            ],
        )

    def proxy(self) -> ContainerSpec:
        return ContainerSpec(
            PROXY, self.images["kubernetes"],
            ["with-host-iptables", "kube-proxy", f"--config={self.etc('kube-proxy.json')}",
             *self.extra_args.get(PROXY, ())],
            network_mode="host", privileged=True,
            volumes=[
                f"{self.directory / 'pki'}:{self.directory / 'pki'}:ro",
                f"{self.directory / 'etc'}:{self.directory / 'etc'}:ro",
                "/lib/modules:/lib/modules:ro",
            ],
        )

    # -- configuration files ---------------------------------------------------

    def kubelet_config(self) -> dict:
        return {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": self.node_ip,  # the apiserver reaches the kubelet here; not on external addresses
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": KUBELET_HEALTHZ_PORT,
            "tlsCertFile": self.pki("kubelet-server.crt"),
            "tlsPrivateKeyFile": self.pki("kubelet-server.key"),
            "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                               "x509": {"clientCAFile": self.pki("ca.crt")}},
            "authorization": {"mode": "Webhook"},
            "cgroupDriver": self.cgroup_driver,
            "cgroupsPerQOS": True,
            "enforceNodeAllocatable": [],
            "failCgroupV1": False,  # cgroup v1 hosts are still supported up to 1.37
            "containerRuntimeEndpoint": CRI_SOCKET,
            # The user's local images are the point: never garbage-collect or evict them.
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "evictionHard": {"imagefs.available": "0%", "nodefs.available": "0%", "nodefs.inodesFree": "0%"},
            "failSwapOn": False,
            "oomScoreAdj": 0,  # a negative score needs CAP_SYS_RESOURCE, which some hosts cannot grant
            "clusterDomain": "cluster.local",
            "podLogsDir": str(self.directory / "pod-logs"),
            "serializeImagePulls": False,
            # Quick status and pod updates for a one-node test cluster.
            "nodeStatusUpdateFrequency": "4s",
            "nodeStatusReportFrequency": "10s",
            "syncFrequency": "10s",
            "fileCheckFrequency": "10s",
            "featureGates": self.websocket_gate(),
        }

    def proxy_config(self) -> dict:
        return {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "mode": "iptables",
            "clientConnection": {"kubeconfig": self.pki("kube-proxy.kubeconfig")},
            "hostnameOverride": self.node_name,
            "clusterCIDR": self.pod_cidr,
            "healthzBindAddress": f"127.0.0.1:{PROXY_HEALTHZ_PORT}",
            "metricsBindAddress": "127.0.0.1:10249",
            # NodePorts answer on the bridge address only: reachable from this host, not from outside.
            "nodePortAddresses": [f"{self.node_ip}/32"],
            "iptables": {"minSyncPeriod": "1s", "syncPeriod": "30s", "localhostNodePorts": False},
            # Leave the host's conntrack sysctls and OOM scores alone.
            "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
            "oomScoreAdj": 0,
        }

    def config_files(self) -> dict[str, str]:
        return {
            "kubelet.json": json.dumps(self.kubelet_config(), indent=2),
            "kube-proxy.json": json.dumps(self.proxy_config(), indent=2),
        }


def _gates(gates: dict[str, bool]) -> list[str]:
    if not gates:
        return []
    return ["--feature-gates=" + ",".join(f"{k}={str(v).lower()}" for k, v in sorted(gates.items()))]
