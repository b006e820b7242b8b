"""Creating, using and deleting one throwaway cluster on the host's Docker engine.

Creation is a list of small steps run in order; if any fails, everything made so
far is deleted before the error is raised. Everything the cluster starts carries
its labels (components.CLUSTER_LABEL), so deletion works from Docker's state.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import docker
import docker.errors
import kubernetes.client

from . import components as c
from . import ownership, preflight, reaping
from .components import ClusterPlan, ContainerSpec
from .errors import ComponentFailed, EngineBusy, SingleK8sError
from .images import Images
from .pki import CLIENT, SERVER, Identity, Pki
from .progress import Status
from .readiness import Readiness
from .steps import parallel
from .teardown import delete_cluster, host_helper


class Cluster:
    """A running cluster: its plan, admin kubeconfig, API client and components."""

    def __init__(self, client: docker.DockerClient, plan: ClusterPlan, status: Status) -> None:
        self.docker = client
        self.plan = plan
        self.status = status
        self.created_clock = time.monotonic()
        self.timings: dict[str, float] = {}  # seconds from the start of create() to each readiness check passing
        self.api_port: int | None = None
        self._api_client: kubernetes.client.ApiClient | None = None

    # -- sharing one cluster between processes (pytest-xdist workers) ----------

    def state(self) -> dict:
        """What another process needs to attach to this running cluster (JSON-ready)."""
        return {"plan": {**dataclasses.asdict(self.plan), "directory": str(self.plan.directory)},
                "api_port": self.api_port}

    @classmethod
    def attach(cls, client: docker.DockerClient, state: dict, status: Status) -> Cluster:
        plan = dict(state["plan"])
        plan["directory"] = Path(plan["directory"])
        plan["extra_args"] = {k: tuple(v) for k, v in plan["extra_args"].items()}
        cluster = cls(client, ClusterPlan(**plan), status)
        cluster.api_port = state["api_port"]
        return cluster

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
        """Stop one component's container (SIGTERM, then SIGKILL after `timeout` seconds)."""
        self.container(component).stop(timeout=timeout)

    def start(self, component: str) -> None:
        """Start a stopped component and wait until it is ready again."""
        self.container(component).start()
        Readiness(self, self.status).wait_component(component)

    def restart(self, component: str, timeout: int = 10) -> None:
        """Restart one component and wait until it is ready again."""
        self.container(component).restart(timeout=timeout)
        Readiness(self, self.status).wait_component(component)

    # -- lifecycle ---------------------------------------------------------------

    def create(self, images: Images, wait_timeout: float = 600.0) -> None:
        """Check the host, claim the engine (waiting up to wait_timeout for another session's
        cluster to end), start every component and wait until the cluster serves pods; on
        failure, delete."""
        self.created_clock = time.monotonic()  # the zero of self.timings
        try:
            preflight.check_engine(self.docker)
            reaping.wait_for_engine(self.docker, self.status, wait_timeout, self._claim_engine,
                                    self.plan.images["kubernetes"])
        except BaseException:
            shutil.rmtree(self.plan.directory, ignore_errors=True)
            raise
        try:
            self._create(images)
        except BaseException:
            self.status.info(" • Deleting the failed cluster ...")
            try:
                self.delete()
            except Exception as cleanup:  # noqa: BLE001 - the first error is the one to report
                self.status.info(f" ✗ The clean-up failed too: {cleanup}")
            raise

    def _create(self, images: Images) -> None:
        """The order serves the apiserver first, since everything waits on it (bench/bench.py measures it):
        the network holder, certificates, etcd and the apiserver; the rest once the apiserver is ready."""
        plan = self.plan
        with self.status.step("Preparing network and certificates"):
            for sub in ("pki", "etc", "etcd", "kubelet", "pod-logs", "cri-dockerd"):
                (plan.directory / sub).mkdir(mode=0o700, exist_ok=True)
            parallel([self._start_reaper, lambda: self._run(plan.network())])
            network = self.container(c.NETWORK)
            network.reload()
            self.plan = plan = _with_network_ip(plan, network)
            specs = {spec.component: spec for spec in plan.specs()}
            self.api_port = int(network.attrs["NetworkSettings"]["Ports"][f"{c.APISERVER_PORT}/tcp"][0]["HostPort"])
            write_pki(plan, self.server)
            for name, text in plan.config_files().items():
                Path(plan.etc(name)).write_text(text)
        readiness = Readiness(self, self.status)
        with self.status.step(f"Starting Kubernetes {plan.version}: {', '.join(c.COMPONENTS)}"):
            parallel([lambda: self._run(specs[c.ETCD]), lambda: self._run(specs[c.APISERVER])])
            readiness.wait_apiserver()
            # The scheduler and controller-manager would exit had they started before the apiserver answered.
            parallel([
                *(lambda name=name: self._run(specs[name]) for name in (c.SCHEDULER, c.CONTROLLER_MANAGER, c.PROXY,
                                                                       c.KUBECTL)),
                lambda: (self._share_kubelet_root(), self._run(specs[c.KUBELET])),
            ])
        readiness.wait_rest()

    def _run(self, spec: ContainerSpec) -> None:
        try:
            self.docker.containers.run(
                spec.image, spec.command, name=self.plan.container_name(spec.component), detach=True,
                labels=self.plan.labels(spec.component, ownership.current()), network_mode=spec.network_mode,
                pid_mode=spec.pid_mode, privileged=spec.privileged, volumes=spec.volumes, ports=spec.ports,
                environment=spec.environment, restart_policy={"Name": "no"},
                log_config={"Type": "json-file", "Config": {"max-size": "10m"}},
            )
        except docker.errors.APIError as error:
            hint = ""
            if "port is already allocated" in str(error) or "address already in use" in str(error):
                hint = "choose another apiserver port (--k8s-apiserver-port), or stop what listens there"
            raise ComponentFailed(spec.component, f"could not start: {error.explanation or error}", "", hint) from error

    def _claim_engine(self) -> None:
        """Create this cluster's reaper under the engine-wide name (components.REAPER_NAME);
        EngineBusy if another cluster holds it. Creating reserves the name at once;
        _start_reaper starts it beside the first component."""
        pid = ownership.owning_pid()
        try:
            self.docker.containers.create(
                self.plan.images["kubernetes"],
                ["reaper", str(pid), str(ownership.start_time(pid)), self.plan.cluster_id, str(self.plan.directory)],
                name=c.REAPER_NAME, auto_remove=True, privileged=True, pid_mode="host", network_mode="host",
                volumes=[f"{self.plan.docker_socket}:/var/run/docker.sock:rw"],
                labels={c.REAPER_LABEL: self.plan.cluster_id, c.OWNER_LABEL: ownership.current(),
                        c.DIRECTORY_LABEL: str(self.plan.directory)},
            )
        except docker.errors.APIError as error:
            if error.status_code == 409:
                raise EngineBusy(f"{c.REAPER_NAME} exists: another cluster runs on this Docker engine") from error
            raise

    def _start_reaper(self) -> None:
        """The reaper deletes this cluster if this process dies without doing so
        (images/kubernetes/reaper). It is the first privileged host-namespace
        container, so a host that cannot grant one is explained here."""
        try:
            self.docker.containers.get(c.REAPER_NAME).start()
        except docker.errors.APIError as error:
            raise preflight.explain(error) from error

    def _share_kubelet_root(self) -> None:
        host_helper(self.docker, self.plan.images["kubernetes"], ["host-mounts", self.plan.kubelet_root],
                    {c.HELPER_LABEL: self.plan.cluster_id}, f"share {self.plan.kubelet_root}")

    def delete(self) -> None:
        """Remove pods, iptables rules, containers, mounts and files. Safe to call twice."""
        with self.status.step("Deleting the cluster"):
            delete_cluster(self.docker, self.plan.cluster_id, self.plan.directory, self.plan.images["kubernetes"])


def plan_cluster(client: docker.DockerClient, images: Images, version: str,
                 apiserver_host_port: int | None = None, extra_args: dict[str, tuple[str, ...]] | None = None
                 ) -> ClusterPlan:
    """Read what the engine says (cgroups, bridge, paths) and lay out a new cluster."""
    info = client.info()
    bridge = next(entry for entry in client.networks.get("bridge").attrs["IPAM"]["Config"]
                  if ipaddress.ip_network(entry["Subnet"]).version == 4)
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


def _with_network_ip(plan: ClusterPlan, network) -> ClusterPlan:
    settings = network.attrs["NetworkSettings"]
    if not network.attrs["State"]["Running"]:
        raise ComponentFailed(c.NETWORK, "exited at start", network.logs(tail=20).decode(errors="replace"))
    return dataclasses.replace(plan, network_ip=settings["Networks"]["bridge"]["IPAddress"])


def _docker_socket() -> str:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    return host.removeprefix("unix://") if host.startswith("unix://") else "/var/run/docker.sock"
