"""Creating, using and deleting one throwaway cluster on the host's Docker engine.

Creation is a list of small steps run in order; if any fails, everything made so
far is deleted before the error is raised. Everything the cluster starts carries
its labels (components.CLUSTER_LABEL), so deletion works from Docker's state.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import ipaddress
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import docker
import docker.errors
import kubernetes.client

from . import components as c
from .components import ClusterPlan, ContainerSpec
from .errors import ComponentFailed, SingleK8sError
from .images import Images
from .pki import CLIENT, SERVER, Identity, Pki
from .progress import Status
from .readiness import Readiness

POD_UID_LABEL = "io.kubernetes.pod.uid"


class Cluster:
    """A running cluster: its plan, admin kubeconfig, API client and components."""

    def __init__(self, client: docker.DockerClient, plan: ClusterPlan, status: Status) -> None:
        self.docker = client
        self.plan = plan
        self.status = status
        self.started_at = datetime.datetime.now(datetime.timezone.utc)
        self.api_port: int | None = None
        self._api_client: kubernetes.client.ApiClient | None = None

    # -- what tests use --------------------------------------------------------

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig for this host (server https://127.0.0.1:<port>)."""
        return Path(self.plan.pki("admin.kubeconfig"))

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def api_client(self) -> kubernetes.client.ApiClient:
        if self._api_client is None:
            configuration = kubernetes.client.Configuration()
            configuration.host = self.server
            configuration.ssl_ca_cert = self.plan.pki("ca.crt")
            configuration.cert_file = self.plan.pki("admin.crt")
            configuration.key_file = self.plan.pki("admin.key")
            self._api_client = kubernetes.client.ApiClient(configuration)
        return self._api_client

    def container(self, component: str):
        return self.docker.containers.get(self.plan.container_name(component))

    def logs(self, component: str, tail: int = 50) -> str:
        try:
            return self.container(component).logs(tail=tail).decode(errors="replace")
        except docker.errors.NotFound:
            return f"(no {component} container)"

    def kubectl(self, *args: str) -> str:
        """Run kubectl in the kubectl container; returns its output, raises on failure."""
        exit_code, output = self.container(c.KUBECTL).exec_run(["kubectl", *args], demux=True)
        stdout, stderr = (part.decode(errors="replace") if part else "" for part in output)
        if exit_code != 0:
            raise SingleK8sError(f"kubectl {' '.join(args)} exited {exit_code}: {stderr.strip() or stdout.strip()}")
        return stdout

    def stop(self, component: str, timeout: int = 10) -> None:
        self.container(component).stop(timeout=timeout)

    def start(self, component: str) -> None:
        self.container(component).start()

    # -- lifecycle ---------------------------------------------------------------

    def create(self, images: Images) -> None:
        """Start every component and wait until the cluster serves pods; on failure, delete."""
        try:
            self._create(images)
        except BaseException:
            self.status.info(" • Deleting the failed cluster ...")
            self.delete()
            raise

    def _create(self, images: Images) -> None:
        plan = self.plan
        with self.status.step("Preparing network, mounts and certificates"):
            for sub in ("pki", "etc", "etcd", "kubelet", "pod-logs", "cri-dockerd"):
                (plan.directory / sub).mkdir(mode=0o700, exist_ok=True)
            _parallel([lambda: self._run(plan.network()), self._share_kubelet_root])
            network = self.container(c.NETWORK)
            network.reload()
            self.plan = plan = _with_network_ip(plan, network)
            self.api_port = int(network.attrs["NetworkSettings"]["Ports"][f"{c.APISERVER_PORT}/tcp"][0]["HostPort"])
            write_pki(plan, self.server)
            for name, text in plan.config_files().items():
                Path(plan.etc(name)).write_text(text)
        # The scheduler and controller-manager exit if the apiserver does not
        # answer when they start; every other component retries on its own.
        late = (c.SCHEDULER, c.CONTROLLER_MANAGER)
        specs = [spec for spec in plan.specs() if spec.component != c.NETWORK]
        readiness = Readiness(self, self.status)
        with self.status.step(f"Starting Kubernetes {plan.version}: {', '.join(c.COMPONENTS)}"):
            _parallel([lambda spec=spec: self._run(spec) for spec in specs if spec.component not in late])
            readiness.wait_apiserver()
            _parallel([lambda spec=spec: self._run(spec) for spec in specs if spec.component in late])
        readiness.wait_rest()

    def _run(self, spec: ContainerSpec) -> None:
        try:
            self.docker.containers.run(
                spec.image, spec.command, name=self.plan.container_name(spec.component), detach=True,
                labels=self.plan.labels(spec.component, owner()), network_mode=spec.network_mode,
                pid_mode=spec.pid_mode, privileged=spec.privileged, volumes=spec.volumes, ports=spec.ports,
                environment=spec.environment, restart_policy={"Name": "no"},
                log_config={"Type": "json-file", "Config": {"max-size": "10m"}},
            )
        except docker.errors.APIError as error:
            hint = ""
            if "port is already allocated" in str(error) or "address already in use" in str(error):
                hint = "choose another apiserver port, or stop what listens there"
            raise ComponentFailed(spec.component, f"could not start: {error.explanation or error}", "", hint) from error

    def _share_kubelet_root(self) -> None:
        self._host_helper(["host-mounts", self.plan.kubelet_root], f"share {self.plan.kubelet_root}")

    def _host_helper(self, command: list[str], what: str) -> None:
        """Run one of the kubernetes image's host scripts in a one-shot privileged container."""
        try:
            self.docker.containers.run(
                self.plan.images["kubernetes"], command, privileged=True, pid_mode="host", network_mode="host",
                remove=True, stderr=True, labels=self.plan.labels(command[-2], owner()),
            )
        except docker.errors.ContainerError as error:
            output = error.stderr.decode(errors="replace") if error.stderr else ""
            raise ComponentFailed(
                command[-2], f"could not {what}", output,
                "the kubelet needs a privileged container with the host's PID and network namespaces",
            ) from error

    def delete(self) -> None:
        """Remove pods, iptables rules, containers, mounts and files. Safe to call twice."""
        with self.status.step("Deleting the cluster"):
            ours = self.docker.containers.list(all=True, filters={"label": f"{c.CLUSTER_LABEL}={self.plan.cluster_id}"})
            node_agents = [x for x in ours if x.labels.get(c.COMPONENT_LABEL) in (c.KUBELET, c.PROXY)]
            _parallel([lambda x=x: _remove(x) for x in node_agents])  # no kubelet may restart a pod now
            _parallel([lambda x=x: _remove(x) for x in self._pod_containers()])
            steps: list[Callable[[], None]] = [lambda x=x: _remove(x) for x in ours if x not in node_agents]
            if self.plan.directory.exists():
                steps.append(lambda: self._host_helper(
                    ["with-host-iptables", "host-cleanup", str(self.plan.directory)], "clean up the host"))
            _parallel(steps)
            shutil.rmtree(self.plan.directory, ignore_errors=True)  # in case no helper could run

    def _pod_containers(self) -> list:
        """Containers that cri-dockerd made for this cluster's pods (created after it started)."""
        found = []
        for container in self.docker.containers.list(all=True, filters={"label": POD_UID_LABEL}):
            created = datetime.datetime.fromisoformat(container.attrs["Created"][:26].rstrip("Z") + "+00:00")
            if created >= self.started_at:
                found.append(container)
        return found


def plan_cluster(client: docker.DockerClient, images: Images, version: str,
                 apiserver_host_port: int | None = None, extra_args: dict[str, tuple[str, ...]] | None = None
                 ) -> ClusterPlan:
    """Read what the engine says (cgroups, bridge, paths) and lay out a new cluster."""
    info = client.info()
    bridge = client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    cluster_id = secrets.token_hex(4)
    # Docker's default bridge lists a gateway only when one was configured; its default is the first host.
    node_ip = bridge.get("Gateway") or str(next(ipaddress.ip_network(bridge["Subnet"]).hosts()))
    return ClusterPlan(
        cluster_id=cluster_id,
        directory=Path(tempfile.mkdtemp(prefix=f"{c.DIRECTORY_PREFIX}{cluster_id}-")),
        version=version,
        images={name: images.ref(name) for name in ("kubernetes", "etcd", "pause")},
        network_ip="",  # known once the network container runs
        node_ip=node_ip,
        pod_cidr=bridge["Subnet"],
        cgroup_driver=info.get("CgroupDriver", "cgroupfs"),
        docker_socket=_docker_socket(),
        docker_root=info.get("DockerRootDir", "/var/lib/docker"),
        apiserver_host_port=apiserver_host_port,
        extra_args=extra_args or {},
    )


def write_pki(plan: ClusterPlan, host_server: str) -> Pki:
    """Every certificate and kubeconfig the components and the tests use."""
    pki = Pki(plan.directory / "pki")
    internal, from_host_network = f"https://127.0.0.1:{c.APISERVER_PORT}", f"https://{plan.network_ip}:{c.APISERVER_PORT}"
    local = (("localhost",), ("127.0.0.1", plan.network_ip))
    identities = [
        Identity("apiserver", "kube-apiserver", usages=(SERVER,),
                 dns_names=("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                            "kubernetes.default.svc.cluster.local", "localhost"),
                 ips=(c.SERVICE_IP, "127.0.0.1", plan.network_ip)),
        Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", groups=("system:masters",)),
        Identity("apiserver-etcd-client", "kube-apiserver-etcd-client"),
        Identity("etcd-server", "etcd", usages=(SERVER, CLIENT), dns_names=local[0], ips=("127.0.0.1",)),
        Identity("admin", "pytest-single-k8s-admin", groups=("system:masters",)),
        Identity("kube-controller-manager", "system:kube-controller-manager"),
        Identity("kube-scheduler", "system:kube-scheduler"),
        Identity("kubelet", f"system:node:{plan.node_name}", groups=("system:nodes",)),
        Identity("kube-proxy", "system:kube-proxy"),
        Identity("kubelet-server", plan.node_name, usages=(SERVER,), dns_names=(plan.node_name,), ips=(plan.node_ip,)),
        Identity("kube-scheduler-server", "kube-scheduler", usages=(SERVER,), dns_names=local[0], ips=local[1]),
        Identity("kube-controller-manager-server", "kube-controller-manager", usages=(SERVER,),
                 dns_names=local[0], ips=local[1]),
    ]
    for identity in identities:
        pki.issue(identity)
    pki.key_pair("service-account")
    pki.kubeconfig("admin.kubeconfig", "admin", host_server)
    pki.kubeconfig("admin-internal.kubeconfig", "admin", internal)
    pki.kubeconfig("kube-controller-manager.kubeconfig", "kube-controller-manager", internal)
    pki.kubeconfig("kube-scheduler.kubeconfig", "kube-scheduler", internal)
    pki.kubeconfig("kubelet.kubeconfig", "kubelet", from_host_network)
    pki.kubeconfig("kube-proxy.kubeconfig", "kube-proxy", from_host_network)
    return pki


def owner() -> str:
    """Who made a container: the reaper's key to whether its owner still lives."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _with_network_ip(plan: ClusterPlan, network) -> ClusterPlan:
    return dataclasses.replace(plan, network_ip=network.attrs["NetworkSettings"]["IPAddress"])


def _docker_socket() -> str:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    return host.removeprefix("unix://") if host.startswith("unix://") else "/var/run/docker.sock"


def _remove(container) -> None:
    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass


def _parallel(steps: Iterable[Callable[[], object]]) -> None:
    """Run independent steps at once; re-raise the first failure after all have ended."""
    steps = list(steps)
    if not steps:
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(steps)) as pool:
        futures = [pool.submit(step) for step in steps]
    for future in futures:
        future.result()
