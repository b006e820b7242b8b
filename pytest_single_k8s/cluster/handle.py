"""The running cluster as tests see it: kubeconfig, API client, kubectl, logs, stop/start/restart."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import docker
import kubernetes.client

from ..common.progress import Status
from ..engine import lease, ownership
from ..engine.containers import last_logs
from ..engine.labels import OWNER_LABEL
from ..errors import SingleK8sError
from . import credentials, teardown
from .credentials import Credentials
from .names import KUBECTL, RECORD
from .plan import ClusterPlan
from .readiness import Readiness


class Cluster:
    """A running cluster: its plan, admin kubeconfig, API client and components."""

    def __init__(
        self,
        client: docker.DockerClient,
        plan: ClusterPlan,
        status: Status,
        api_port: int | None = None,
        created_clock: float | None = None,
        ready_timeout: float = 120.0,
        servers: tuple[str, ...] = (),
    ) -> None:
        self.docker = client
        self.plan = plan
        self.status = status
        self.api_port = api_port
        # Where this process may reach the apiserver, best first; one once it answered (use_server).
        self.servers = servers
        self.client_files: dict[str, bytes] | None = None  # CLIENT_FILES, where this process made the cluster
        self.created_clock = time.monotonic() if created_clock is None else created_clock
        self.ready_timeout = ready_timeout
        self.timings: dict[str, float] = {}  # seconds from the start of creation to each readiness check passing
        self.lease: lease.Lease | None = None  # held while this process uses the cluster (engine/lease.py)
        self._credentials: Credentials | None = None
        self._api_client: kubernetes.client.ApiClient | None = None

    # -- sharing one cluster between processes (pytest-xdist workers) ----------

    def state(self) -> dict[str, Any]:
        """What another process needs to attach to this running cluster (JSON-ready)."""
        return {
            "plan": {**dataclasses.asdict(self.plan), "directory": str(self.plan.directory)},
            "api_port": self.api_port,
            "servers": list(self.servers),
        }

    @classmethod
    def from_state(
        cls, client: docker.DockerClient, state: dict[str, Any], status: Status, ready_timeout: float = 120.0
    ) -> Cluster:
        """The running cluster that `state` describes, not held."""
        plan = dict(state["plan"])
        plan["directory"] = Path(plan["directory"])
        plan["extra_args"] = {k: tuple(v) for k, v in plan["extra_args"].items()}
        for name, value in plan.items():
            if isinstance(value, list):
                plan[name] = tuple(value)
        servers = tuple(state.get("servers") or ())
        return cls(client, ClusterPlan(**plan), status, state["api_port"], ready_timeout=ready_timeout, servers=servers)

    @classmethod
    def attach(
        cls, client: docker.DockerClient, state: dict[str, Any], status: Status, ready_timeout: float = 120.0
    ) -> Cluster:
        """The running cluster that `state` describes, held (a lease of this process) until close()."""
        cluster = cls.from_state(client, state, status, ready_timeout)
        cluster.hold()
        return cluster

    def hold(self) -> None:
        """Take this process's lease on the cluster: its reaper keeps it while a lease runs."""
        plan = self.plan
        labels = {**plan.whose(), OWNER_LABEL: ownership.current(), **lease.on(plan.cluster_id)}
        self.lease = lease.take(self.docker, plan.images["kubernetes"], labels)

    def release(self) -> None:
        """Let this process's lease go (a kept cluster stays; another's reaper deletes it if none is left)."""
        if self.lease is not None:
            self.lease.release()
            self.lease = None

    # -- what tests use --------------------------------------------------------

    @property
    def credentials(self) -> Credentials:
        """This process's files to reach the cluster as its admin (credentials.py): the ones the cluster was
        made with, else those of its kubectl container."""
        if self._credentials is None:
            files = self.client_files or credentials.from_container(self.container(KUBECTL), self.plan.pki_directory)
            self._credentials = Credentials(files, self.server)
        return self._credentials

    @credentials.setter
    def credentials(self, value: Credentials) -> None:
        self._credentials = value

    def use_server(self, server: str) -> None:
        """The apiserver answered this process at `server` (of self.servers): from now on, only there."""
        if self.servers == (server,):
            return
        self.servers = (server,)
        if self._api_client is not None:
            self._api_client.configuration.host = server  # read at every request
        if self._credentials is not None:  # the kubeconfig names the server: made anew at the next use
            self.client_files = dict(self._credentials.contents)
            self._credentials.close()
            self._credentials = None

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig for this process and its children (a memory file: credentials.py)."""
        return self.credentials.path(credentials.KUBECONFIG)

    @property
    def server(self) -> str:
        return self.servers[0] if self.servers else f"https://127.0.0.1:{self.api_port}"

    @property
    def node_address(self) -> str:
        """Where this process reaches NodePorts: the node's address as seen from here."""
        return self.plan.node_address

    @property
    def api_client(self) -> kubernetes.client.ApiClient:
        if self._api_client is None:
            configuration = kubernetes.client.Configuration()
            configuration.host = self.server
            configuration.ssl_ca_cert = str(self.credentials.path(credentials.CA))
            configuration.cert_file = str(self.credentials.path(credentials.CERTIFICATE))
            configuration.key_file = str(self.credentials.path(credentials.KEY))
            # Never through a proxy (common/direct.py): the client takes one from HTTPS_PROXY, and so does
            # websocket-client for exec and port-forward; "*" turns both off (kubernetes 37, websocket-client 1.9).
            configuration.no_proxy = "*"
            self._api_client = kubernetes.client.ApiClient(configuration)
        return self._api_client

    def container(self, component: str) -> Any:
        return self.docker.containers.get(self.plan.container_name(component))

    def logs(self, component: str, tail: int = 50) -> str:
        return last_logs(self.docker, self.plan.container_name(component), tail)

    def kubectl(self, *args: str) -> str:
        """Run kubectl in the kubectl container; returns its output, raises on failure."""
        exit_code, output = self.container(KUBECTL).exec_run(["kubectl", *args], demux=True)
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
        self.readiness().wait_component(component)

    def restart(self, component: str, timeout: int = 10) -> None:
        """Restart one component and wait until it is ready again."""
        self.container(component).restart(timeout=timeout)
        self.readiness().wait_component(component)

    def readiness(self) -> Readiness:
        return Readiness(
            self.docker,
            self.plan,
            self.servers or (self.server,),
            self.use_server,
            str(self.credentials.path(credentials.CA)),
            self.api_client,
            self.status,
            self._passed,
            self.ready_timeout,
        )

    def _passed(self, check: str) -> None:
        self.timings[check] = time.monotonic() - self.created_clock

    def close(self) -> None:
        """The end of this process's use: a kept cluster stays (and says how to reach it), any other goes
        (its lease only after the teardown: else its reaper would tear it down too)."""
        if not self.plan.keep:
            self.delete()
            return
        saved = credentials.save(self.plan.cluster_id, self.credentials)
        self.release()
        self.close_credentials()
        self.status.info(
            f" • Kept cluster {self.plan.cluster_id} (Kubernetes {self.plan.version}) runs at {self.server}:\n"
            f"   export KUBECONFIG={saved}\n"
            "   the next pytest session with the same settings attaches to it; "
            "delete it with `pytest-single-k8s down`"
        )

    def delete(self) -> None:
        """Remove pods, iptables rules, containers, mounts and files (teardown.plan), and the leases."""
        try:
            with self.status.step("Deleting the cluster"):
                plan = self.plan
                teardown.execute(
                    self.docker, plan.cluster_id, plan.directory, plan.images["kubernetes"], plan.labels(RECORD)
                )
            credentials.forget(plan.cluster_id)
        finally:
            self.release()
            self.close_credentials()

    def close_credentials(self) -> None:
        """Let this process's files for the cluster go (credentials.py): a later use makes them anew."""
        if self._api_client is not None:
            self._api_client.close()
            self._api_client = None
        if self._credentials is not None:
            self._credentials.close()
            self._credentials = None
