"""Waiting until a new cluster serves pods: every wait has a deadline and names its component.

The apiserver comes first; then the scheduler, the controller-manager, the node,
the default ServiceAccount and kube-proxy are awaited in parallel. If any of our
containers exits meanwhile, the wait fails at once with that container's last
log lines instead of running into its deadline.
"""

from __future__ import annotations

import ssl
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING

import kubernetes.client

from . import components as c
from .errors import ComponentFailed
from .progress import Status
from .steps import parallel
from .waiting import WaitTimeout, wait_for

if TYPE_CHECKING:
    from .cluster import Cluster

REQUEST_TIMEOUT = 5  # seconds for one readiness request; the wait around it has its own deadline

HINTS = {
    c.KUBELET: "the kubelet needs a privileged container, the host's PID namespace and the Docker socket; "
               "see its log above",
    c.APISERVER: "check the flags in its log; an extra flag that is wrong stops it at start",
}


class Readiness:
    def __init__(self, cluster: Cluster, status: Status, timeout: float = 120.0, interval: float = 0.1) -> None:
        self.cluster = cluster
        self.status = status
        self.timeout = timeout
        self.interval = interval
        self._tls = ssl.create_default_context(cafile=cluster.plan.pki("ca.crt"))
        self._failed = threading.Event()
        self._last_container_check = 0.0
        self.watched = {*c.COMPONENTS, c.NETWORK}  # an exit of any of these fails the wait at once

    def checks(self) -> dict[str, tuple[str, Callable[[], object]]]:
        """Every readiness check: what it shows -> (the component it is about, the check)."""
        plan, server = self.cluster.plan, self.cluster.server
        return {
            f"{c.APISERVER} /readyz": (c.APISERVER, lambda: self._https(f"{server}/readyz")),
            f"{c.SCHEDULER} /healthz":
                (c.SCHEDULER, lambda: self._https(f"https://{plan.network_ip}:{c.SCHEDULER_PORT}/healthz")),
            f"{c.CONTROLLER_MANAGER} /healthz":
                (c.CONTROLLER_MANAGER,
                 lambda: self._https(f"https://{plan.network_ip}:{c.CONTROLLER_MANAGER_PORT}/healthz")),
            "node Ready": (c.KUBELET, self._node_ready),
            f"{c.KUBELET} /healthz": (c.KUBELET, lambda: _http(f"http://127.0.0.1:{c.KUBELET_HEALTHZ_PORT}/healthz")),
            "namespace default ready for pods":
                (c.CONTROLLER_MANAGER, lambda: namespace_ready(self.cluster.api_client, "default")),
            f"{c.PROXY} /healthz": (c.PROXY, lambda: _http(f"http://127.0.0.1:{c.PROXY_HEALTHZ_PORT}/healthz")),
        }

    def wait_apiserver(self) -> None:
        self.wait([f"{c.APISERVER} /readyz"])

    def wait_rest(self) -> None:
        self.wait([what for what in self.checks() if what not in (f"{c.APISERVER} /readyz", f"{c.KUBELET} /healthz")])

    def wait_component(self, component: str) -> None:
        """After a restart: the component's own checks (etcd: through the apiserver's)."""
        wanted = c.APISERVER if component == c.ETCD else component
        # Only this one: another component a test stopped on purpose is no failure here.
        self.watched = {component, wanted, c.NETWORK}
        # A restarted kubelet's node stays Ready in the API for a while: its own /healthz tells.
        self.wait([what for what, (owner, _) in self.checks().items() if owner == wanted and what != "node Ready"])

    def wait(self, names: list[str]) -> None:
        """Run the named checks in parallel until all pass; the first failure stops the rest."""
        if not names:
            return
        checks = self.checks()
        with self.status.step(f"Waiting for {', '.join(names)}"):
            try:
                parallel([lambda what=what: self._until(checks[what][0], what, checks[what][1]) for what in names])
            finally:
                self._failed.clear()

    def _until(self, component: str, what: str, check) -> None:
        def attempt():
            if self._failed.is_set():
                return None  # another wait failed: that error is the one to report
            self._check_containers()
            return check()

        try:
            wait_for(attempt, what, timeout=self.timeout, interval=self.interval,
                     fatal=(ComponentFailed,))
            if not self._failed.is_set():  # passed, rather than cut short by another wait's failure
                self.cluster.timings[what] = time.monotonic() - self.cluster.created_clock
        except WaitTimeout as error:
            self._failed.set()
            raise ComponentFailed(component, f"was not ready: {error}", self.cluster.logs(component, tail=30),
                                  HINTS.get(component, "")) from error
        except ComponentFailed:
            self._failed.set()
            raise

    def _check_containers(self) -> None:
        """Fail at once if a component container has exited (checked at most every 0.5 s)."""
        now = time.monotonic()
        if now - self._last_container_check < 0.5:
            return
        self._last_container_check = now
        filters = {"label": f"{c.CLUSTER_LABEL}={self.cluster.plan.cluster_id}", "status": "exited"}
        for container in self.cluster.docker.containers.list(all=True, filters=filters):
            component = container.labels.get(c.COMPONENT_LABEL, container.name)
            if component in self.watched:
                code = container.attrs["State"]["ExitCode"]
                raise ComponentFailed(component, f"exited with status {code} while we waited for it",
                                  container.logs(tail=30).decode(errors="replace"), HINTS.get(component, ""))

    def _https(self, url: str) -> str:
        with urllib.request.urlopen(url, timeout=2, context=self._tls) as response:
            body = response.read().decode()
        if body.strip() != "ok":
            raise RuntimeError(f"{url} answered {body[:200]!r}")
        return body

    def _node_ready(self) -> None:
        core = kubernetes.client.CoreV1Api(self.cluster.api_client)
        node = core.read_node(self.cluster.plan.node_name, _request_timeout=REQUEST_TIMEOUT)
        ready = [x for x in node.status.conditions or [] if x.type == "Ready"]
        if not ready or ready[0].status != "True":
            raise RuntimeError(f"node condition Ready is {ready[0].status if ready else 'absent'}: "
                               f"{ready[0].message if ready else ''}")



def namespace_ready(api_client: kubernetes.client.ApiClient, namespace: str) -> None:
    """Raises until pods can start in the namespace: its default ServiceAccount exists
    (admission needs it) and so does kube-root-ca.crt (every token volume mounts it)."""
    core = kubernetes.client.CoreV1Api(api_client)
    core.read_namespaced_service_account("default", namespace, _request_timeout=REQUEST_TIMEOUT)
    core.read_namespaced_config_map("kube-root-ca.crt", namespace, _request_timeout=REQUEST_TIMEOUT)


def _http(url: str) -> None:
    with urllib.request.urlopen(url, timeout=2) as response:
        response.read()
