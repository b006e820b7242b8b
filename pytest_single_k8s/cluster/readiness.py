"""Waiting until a new cluster serves pods: every wait has a deadline and names its component.

The apiserver comes first; then the scheduler, the controller-manager, the node,
the default ServiceAccount and kube-proxy are awaited in parallel. If any of our
containers exits meanwhile, the wait fails at once with that container's last
log lines instead of running into its deadline; when one wait fails, or the user
presses Ctrl-C, the others end at once.
"""

from __future__ import annotations

import functools
import ssl
import threading
import time
import urllib.error
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import docker
import kubernetes.client

from ..common import direct
from ..common.progress import Status
from ..common.steps import parallel
from ..common.waiting import WaitCancelled, WaitTimeout, wait_for
from ..engine.containers import last_logs, listed
from ..engine.labels import CLUSTER_LABEL, COMPONENT_LABEL
from ..errors import ComponentFailed
from . import diagnostics
from .addons import ADDONS, DNS
from .names import (
    APISERVER,
    CLUSTER_DNS_IP,
    CLUSTER_DOMAIN,
    COMPONENTS,
    CONTROLLER_MANAGER,
    CONTROLLER_MANAGER_PORT,
    ETCD,
    KUBECTL,
    KUBELET,
    KUBELET_HEALTHZ_PORT,
    NETWORK,
    PROXY,
    PROXY_HEALTHZ_PORT,
    SCHEDULER,
    SCHEDULER_PORT,
)
from .plan import ClusterPlan

REQUEST_TIMEOUT = 2  # seconds for one readiness request; the wait around it has its own deadline
CHOICE_TIMEOUT = 1  # seconds for each of several places the apiserver may answer at, while one is chosen
APISERVER_ANSWERS = f"{APISERVER} answers"
APISERVER_READY = f"{APISERVER} /readyz"
KUBELET_HEALTHY = f"{KUBELET} /healthz"
NODE_READY = "node Ready"

HINTS = {
    KUBELET: "the kubelet needs a privileged container, the host's PID namespace and the Docker socket; "
    "see its log above",
    APISERVER: "check the flags in its log; an extra flag that is wrong stops it at start",
}


class Check(NamedTuple):
    component: str  # the one a failure names
    run: Callable[[], object]  # raises until the check passes
    interval: float = 0.0  # seconds between tries; 0: the Readiness's own


# A check made through the engine costs it an exec (create, start, inspect) and a curl process: on a busy
# host at start-up, a few a second are what it can spare.
ENGINE_INTERVAL = 0.25


class Readiness:
    def __init__(
        self,
        client: docker.DockerClient,
        plan: ClusterPlan,
        servers: Sequence[str],  # where this process may reach the apiserver, best first
        use_server: Callable[[str], None],  # told the first of them that answers
        ca_file: str,  # the cluster CA's certificate, for the apiserver's
        api_client: kubernetes.client.ApiClient,
        status: Status,
        passed: Callable[[str], None] = lambda what: None,
        timeout: float = 120.0,
        interval: float = 0.1,
    ) -> None:
        self.client, self.plan, self.api_client = client, plan, api_client
        self.servers, self.use_server = tuple(servers), use_server
        self.status = status
        self.passed = passed  # told the name of each check as it passes
        self.timeout = timeout
        self.interval = interval
        self._direct = direct.opener(ssl.create_default_context(cafile=ca_file))
        # Set when one wait fails or Ctrl-C comes: every wait of this object ends. Work run beside
        # the waits (create.py applies the addons) shares it. A restart makes a new Readiness.
        self.cancel = threading.Event()
        self._last_container_check = 0.0
        self._containers: dict[str, Any] = {}  # by component, for the checks made in them (_in)
        self.watched = {*COMPONENTS, NETWORK}  # an exit of any of these fails the wait at once

    def checks(self) -> dict[str, Check]:
        """Every readiness check: what it shows -> the component it is about and the check. Only the
        apiserver is asked directly; the rest answer on addresses of the engine's host, asked through the
        engine (curl in the kubectl container, which shares the control plane's network namespace and has
        the cluster's CA, or in a node agent's) or through the apiserver."""
        engine = max(self.interval, ENGINE_INTERVAL)
        return {
            # Before /readyz: serving, its post-start hooks still running (the one-second sleeps of two of them).
            APISERVER_ANSWERS: Check(APISERVER, functools.partial(self._apiserver, "/livez", None)),
            APISERVER_READY: Check(APISERVER, functools.partial(self._apiserver, "/readyz")),
            f"{SCHEDULER} /healthz": Check(
                SCHEDULER, functools.partial(self._in, KUBECTL, f"https://127.0.0.1:{SCHEDULER_PORT}/healthz"), engine
            ),
            f"{CONTROLLER_MANAGER} /healthz": Check(
                CONTROLLER_MANAGER,
                functools.partial(self._in, KUBECTL, f"https://127.0.0.1:{CONTROLLER_MANAGER_PORT}/healthz"),
                engine,
            ),
            NODE_READY: Check(KUBELET, self._node_ready),
            KUBELET_HEALTHY: Check(
                KUBELET,
                functools.partial(self._in, KUBELET, f"http://127.0.0.1:{KUBELET_HEALTHZ_PORT}/healthz"),
                engine,
            ),
            "namespace default ready for pods": Check(
                CONTROLLER_MANAGER, lambda: namespace_ready(self.api_client, "default")
            ),
            f"{PROXY} /healthz": Check(
                PROXY, functools.partial(self._in, PROXY, f"http://127.0.0.1:{PROXY_HEALTHZ_PORT}/healthz"), engine
            ),
            # From the control plane's network, whose packets take a pod's way to a Service (kube-proxy's rules).
            **(
                {
                    f"DNS at {CLUSTER_DNS_IP}": Check(
                        ADDONS[DNS].deployment,
                        functools.partial(
                            self._run_in,
                            KUBECTL,
                            ["dns-answers", CLUSTER_DNS_IP, f"kubernetes.default.svc.{CLUSTER_DOMAIN}"],
                        ),
                        engine,
                    )
                }
                if DNS in self.plan.addons
                else {}
            ),
            **{
                f"{ADDONS[name].deployment} serves": Check(
                    ADDONS[name].deployment, functools.partial(ADDONS[name].serves, self.api_client, ADDONS[name])
                )
                for name in self.plan.addons
            },
        }

    def wait_answer(self) -> None:
        self.wait([APISERVER_ANSWERS])

    def wait_apiserver(self) -> None:
        self.wait([APISERVER_READY])

    def wait_rest(self) -> None:
        self.wait([what for what in self.checks() if what not in (APISERVER_ANSWERS, APISERVER_READY, KUBELET_HEALTHY)])

    def wait_component(self, component: str) -> None:
        """After a restart: the component's own checks (etcd: through the apiserver's)."""
        wanted = APISERVER if component == ETCD else component
        # Only this one: another component a test stopped on purpose is no failure here.
        self.watched = {component, wanted, NETWORK}
        # A restarted kubelet's node stays Ready in the API for a while: its own /healthz tells.
        self.wait([what for what, check in self.checks().items() if check.component == wanted and what != NODE_READY])

    def problem(self) -> str | None:
        """Why the cluster cannot serve tests right now, judged at once (None: it can): every
        container runs, the apiserver is ready and the node too."""
        filters = {"label": f"{CLUSTER_LABEL}={self.plan.cluster_id}", "status": "running"}
        running = {container.labels.get(COMPONENT_LABEL) for container in listed(self.client, filters)}
        stopped = [name for name in (NETWORK, *COMPONENTS) if name not in running]
        if stopped:
            return f"not running: {', '.join(stopped)}"
        checks = self.checks()
        for what in (APISERVER_READY, NODE_READY):
            try:
                checks[what].run()
            except Exception as error:  # noqa: BLE001 - any failure is the answer
                return f"{what}: {error}"
        return None

    def wait(self, names: list[str]) -> None:
        """Run the named checks in parallel until all pass; the first failure, or Ctrl-C, ends the rest."""
        if not names:
            return
        checks = self.checks()
        with self.status.step(f"Waiting for {', '.join(names)}"):
            waits = [functools.partial(self._until, what, checks[what]) for what in names]
            parallel(waits, cancel=self.cancel)

    def _until(self, what: str, check: Check) -> None:
        component = check.component

        def attempt() -> object:
            self._check_containers()
            return check.run()

        try:
            wait_for(
                attempt,
                what,
                timeout=self.timeout,
                interval=check.interval or self.interval,
                fatal=(ComponentFailed,),
                cancel=self.cancel,
            )
        except WaitCancelled:
            return  # another wait failed, or Ctrl-C: that is what gets reported
        except WaitTimeout as error:
            raise ComponentFailed(
                component, f"was not ready: {error}", self._logs_of(component), HINTS.get(component, "")
            ) from error
        self.passed(what)

    def _logs_of(self, component: str) -> str:
        """A component's last log lines; for an addon, its pods with theirs."""
        namespaces = {addon.deployment: addon.namespace for addon in ADDONS.values()}
        if component not in namespaces:
            return last_logs(self.client, self.plan.container_name(component), tail=30)
        budget, namespace = diagnostics.Budget(10), namespaces[component]
        core = kubernetes.client.CoreV1Api(self.api_client)
        pods = budget.run("the pods", functools.partial(diagnostics.pods, core, namespace, budget))
        events = budget.run("the events", functools.partial(diagnostics.events, core, namespace))
        return f"{pods}\nevents in {namespace}:\n{events}"

    def _check_containers(self) -> None:
        """Fail at once if a component container has exited (checked at most every 0.5 s)."""
        now = time.monotonic()
        if now - self._last_container_check < 0.5:
            return
        self._last_container_check = now
        filters = {"label": f"{CLUSTER_LABEL}={self.plan.cluster_id}", "status": "exited"}
        for container in listed(self.client, filters):
            component = container.labels.get(COMPONENT_LABEL, container.name)
            if component in self.watched:
                code = container.attrs["State"]["ExitCode"]
                raise ComponentFailed(
                    component,
                    f"exited with status {code} while we waited for it",
                    container.logs(tail=30).decode(errors="replace"),
                    HINTS.get(component, ""),
                )

    def _apiserver(self, path: str, expected: str | None = "ok") -> str:
        """`path` of the apiserver, at the first of the servers that answers at all: this process keeps that
        one (use_server). Any HTTP answer counts, even "not ready": only a server that cannot be reached is
        passed over, quickly where there are others."""
        if len(self.servers) == 1:
            return self._https(self.servers[0] + path, expected)
        for server in self.servers:
            try:
                with self._direct.open(server + "/livez", timeout=CHOICE_TIMEOUT):
                    pass
            except urllib.error.HTTPError:
                pass  # it answered
            except (OSError, urllib.error.URLError):
                continue
            self.servers = (server,)
            self.use_server(server)
            return self._https(server + path, expected)
        raise RuntimeError(f"no answer at {', '.join(self.servers)}")

    def _https(self, url: str, expected: str | None = "ok") -> str:
        """The body at `url`, which must be `expected` (a health check's "ok"); with None, any HTTP answer
        will do: the server serves, even if it refuses this process (not yet anyone's, before its bootstrap
        roles are made) or is not ready."""
        try:
            with self._direct.open(url, timeout=REQUEST_TIMEOUT) as response:
                body = response.read().decode()
        except urllib.error.HTTPError as error:
            if expected is None:
                return f"HTTP {error.code}"
            raise
        if expected is not None and body.strip() != expected:
            raise RuntimeError(f"{url} answered {body[:200]!r}")
        return body

    def _in(self, component: str, url: str) -> None:
        """Raises unless `url` answers with success (curl -f: 2xx) to curl run in the component's container:
        an address of the engine's host, asked through the engine."""
        self._run_in(component, ["curl", "-fsS", "--max-time", str(REQUEST_TIMEOUT), url])

    def _run_in(self, component: str, command: list[str]) -> None:
        """Raises unless `command` succeeds in the component's container."""
        if component not in self._containers:
            self._containers[component] = self.client.containers.get(self.plan.container_name(component))
        code, output = self._containers[component].exec_run(command)
        if code != 0:
            raise RuntimeError(
                f"{' '.join(command)} (in {component}'s container): {output.decode(errors='replace')[-200:]}"
            )

    def _node_ready(self) -> None:
        core = kubernetes.client.CoreV1Api(self.api_client)
        node = core.read_node(self.plan.node_name, _request_timeout=REQUEST_TIMEOUT)
        ready = [x for x in (node.status.conditions if node.status else None) or [] if x.type == "Ready"]
        if not ready or ready[0].status != "True":
            raise RuntimeError(
                f"node condition Ready is {ready[0].status if ready else 'absent'}: {ready[0].message if ready else ''}"
            )


def namespace_ready(api_client: kubernetes.client.ApiClient, namespace: str) -> None:
    """Raises until pods can start in the namespace: its default ServiceAccount exists
    (admission needs it) and so does kube-root-ca.crt (every token volume mounts it)."""
    core = kubernetes.client.CoreV1Api(api_client)
    core.read_namespaced_service_account("default", namespace, _request_timeout=REQUEST_TIMEOUT)
    core.read_namespaced_config_map("kube-root-ca.crt", namespace, _request_timeout=REQUEST_TIMEOUT)
