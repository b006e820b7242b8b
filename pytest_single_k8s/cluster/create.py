"""Creating a cluster: a few steps run in order; if any fails (or Ctrl-C), what was made is deleted.

plan     read the engine (cgroups, bridge, paths) and lay the cluster out
claim    check the engine, reap what dead owners left, attach to a kept cluster with the
         same settings (reuse.py) or else take the engine lock (the reaper)
network  start the reaper and the network holder; certificates and configs
control  etcd and the apiserver first, since everything waits on them (bench/bench.py), and
         the kubelet beside them once the host is prepared: it starts up meanwhile and
         registers the node as soon as the apiserver takes requests, before /readyz (node
         Ready 0.65 s sooner in the bench); the other containers are created meanwhile
rest     the other components started once the apiserver is ready; then the addons'
         objects, while waiting for all of it
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import ipaddress
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors

from ..build.images import Images
from ..common.progress import Status
from ..common.steps import parallel
from ..engine import lock, ownership, preflight
from ..engine.containers import ContainerSpec, create, last_logs, remove
from ..errors import ComponentFailed
from . import addons, certificates, configs, directory, kept, pods, reaping, reuse, specs, teardown
from .handle import Cluster
from .host import MODULES, run_script
from .names import (
    APISERVER,
    APISERVER_PORT,
    COMPONENTS,
    CONTROLLER_MANAGER,
    ETCD,
    KUBECTL,
    KUBELET,
    NETWORK,
    PROXY,
    SCHEDULER,
)
from .plan import ClusterPlan


def create_cluster(
    client: docker.DockerClient,
    images: Images,
    status: Status,
    *,
    api_port: int | None = None,
    extra_args: dict[str, tuple[str, ...]] | None = None,
    wait_timeout: float = 600.0,
    ready_timeout: float = 120.0,
    keep: bool = False,
    addon_names: tuple[str, ...] = addons.DEFAULT,
) -> Cluster:
    """A cluster for this session: the kept one with the same settings, or a new one. For a new
    one: check the host, claim the engine (waiting up to wait_timeout for another session's
    cluster to end), start every component and wait (up to ready_timeout for each check)
    until the cluster serves pods; on failure, delete. A kept cluster outlives its owner."""
    clock = time.monotonic()  # the zero of Cluster.timings
    info = client.info()  # read once: preflight and the plan both judge by it
    preflight.check_engine(info, client.version(), os.environ.get("DOCKER_HOST"))
    plan = plan_cluster(client, info, images, api_port, extra_args or {}, keep, addon_names)
    cluster = Cluster(client, plan, status, created_clock=clock, ready_timeout=ready_timeout)
    pid = ownership.owning_pid()
    reaper_spec = specs.reaper(
        plan, pid, ownership.start_time(pid) or "", teardown.as_json(teardown.plan(plan.cluster_id, plan.directory))
    )
    claimed: list[Any] = []
    attached: list[Cluster] = []

    def reap_and_claim() -> None:
        reaping.reap_abandoned(client, status)
        found = reuse.attach_or_clear(client, plan, status, ready_timeout)
        if found is not None:
            attached.append(found)
            return
        claimed.append(lock.claim(client, reaper_spec))

    try:
        lock.wait_for_engine(client, status, wait_timeout, reap_and_claim)
        if not attached:
            pods.refuse_foreign(client)  # once the engine is ours: another session's kubelet is no foreign one
    except BaseException:
        for reaper in claimed:
            remove(reaper)
        for other in attached:
            other.users.release()
        shutil.rmtree(plan.directory, ignore_errors=True)
        raise
    if attached:
        shutil.rmtree(plan.directory, ignore_errors=True)  # laid out for a new cluster, not needed
        return attached[0]
    try:
        _start(cluster, claimed[0])
        kept.write_state(cluster.plan.directory, cluster.state())
        if keep:
            cluster.users.hold()
    except BaseException:
        status.info(" • Deleting the failed cluster ...")
        try:
            cluster.delete()
        except Exception as cleanup:  # noqa: BLE001 - the first error is the one to report
            status.info(f" ✗ The clean-up failed too: {cleanup}")
        raise
    return cluster


def plan_cluster(
    client: docker.DockerClient,
    info: dict[str, Any],
    images: Images,
    api_port: int | None,
    extra_args: dict[str, tuple[str, ...]],
    keep: bool = False,
    addon_names: tuple[str, ...] = (),
) -> ClusterPlan:
    """Lay out a new cluster from what the engine says (`docker info`: cgroups, paths; its bridge)."""
    bridge = next(
        entry
        for entry in client.networks.get("bridge").attrs["IPAM"]["Config"]
        if ipaddress.ip_network(entry["Subnet"]).version == 4
    )
    cluster_id = secrets.token_hex(4)
    return ClusterPlan(
        cluster_id=cluster_id,
        directory=directory.make(cluster_id),
        version=images.versions.kubernetes,
        images={name: images.ref(name) for name in ("kubernetes", "etcd", "pause", *addons.images(addon_names))},
        owner=ownership.current(),
        user=ownership.user(),
        network_ip="",  # known once the network container runs
        # Docker's default bridge lists a gateway only when one was configured; its default is the first host.
        node_ip=bridge.get("Gateway") or str(next(ipaddress.ip_network(bridge["Subnet"]).hosts())),
        pod_cidr=bridge["Subnet"],
        cgroup_driver=info.get("CgroupDriver", "cgroupfs"),
        cgroup_version=int(info.get("CgroupVersion", "1")),
        docker_socket=_docker_socket(),
        docker_root=info.get("DockerRootDir", "/var/lib/docker"),
        apiserver_host_port=api_port,
        extra_args=extra_args,
        keep=keep,
        addons=addon_names,
        upstream_dns=addons.host_resolvers() if addons.DNS in addon_names else (),
    )


def _start(cluster: Cluster, reaper: Any) -> None:
    client, status = cluster.docker, cluster.status
    with status.step("Preparing network and certificates"):
        parallel([lambda: _start_reaper(reaper), lambda: _run(client, specs.network(cluster.plan))])
        network = cluster.container(NETWORK)
        network.reload()
        if not network.attrs["State"]["Running"]:
            raise ComponentFailed(NETWORK, "exited at start", last_logs(client, network.name, tail=20))
        settings = network.attrs["NetworkSettings"]
        cluster.plan = plan = dataclasses.replace(cluster.plan, network_ip=settings["Networks"]["bridge"]["IPAddress"])
        cluster.api_port = int(settings["Ports"][f"{APISERVER_PORT}/tcp"][0]["HostPort"])
        certificates.write(plan, cluster.server)
        for name, text in configs.files(plan).items():
            Path(plan.etc(name)).write_text(text)
    components = specs.components(plan)
    readiness = cluster.readiness()
    with status.step(f"Starting Kubernetes {plan.version}: {', '.join(COMPONENTS)}"):
        # The kubelet retries until the apiserver answers, as it does under kubeadm's static pods. It waits
        # only for the host to be prepared, which etcd and the apiserver do not need.
        def node() -> None:
            _prepare_host(cluster)
            _run(client, components[KUBELET])

        # The scheduler and controller-manager would exit had they started before the apiserver answered
        # (the controller-manager checks it once a second): they are created meanwhile and started then.
        later: dict[str, Any] = {}

        def create_later(name: str) -> None:
            later[name] = _created(client, components[name])

        parallel(
            [
                node,
                *(functools.partial(_run, client, components[name]) for name in (ETCD, APISERVER, KUBECTL)),
                *(functools.partial(create_later, name) for name in (SCHEDULER, CONTROLLER_MANAGER, PROXY)),
            ]
        )
        readiness.wait_apiserver()
        parallel(functools.partial(_started, container, name) for name, container in later.items())
    # The addons' objects go in while the rest comes up; their Deployments are among the waits.
    apply = functools.partial(addons.apply, cluster.api_client, plan, readiness.cancel)
    parallel([apply, readiness.wait_rest], cancel=readiness.cancel)


def _run(client: docker.DockerClient, spec: ContainerSpec) -> None:
    _started(_created(client, spec), spec.component)


def _created(client: docker.DockerClient, spec: ContainerSpec) -> Any:
    with _explained(spec.component, "create"):
        return create(client, spec)


def _started(container: Any, component: str) -> None:
    with _explained(component, "start"):
        container.start()


@contextlib.contextmanager
def _explained(component: str, verb: str) -> Iterator[None]:
    """The engine's refusal to create or start a component's container, as an error that names it."""
    try:
        yield
    except docker.errors.APIError as error:
        hint = ""
        if "port is already allocated" in str(error) or "address already in use" in str(error):
            hint = "choose another apiserver port (--k8s-apiserver-port), or stop what listens there"
        raise ComponentFailed(component, f"could not {verb}: {error.explanation or error}", "", hint) from error


def _start_reaper(reaper: Any) -> None:
    """The reaper is the first privileged host-namespace container, so a host that cannot
    grant one is explained here."""
    try:
        reaper.start()
    except docker.errors.APIError as error:
        raise preflight.explain(error) from error


def _prepare_host(cluster: Cluster) -> None:
    """host-prepare: the engine must see our directory; the kubelet's root shared; bridged traffic
    through netfilter (images/kubernetes/host-prepare)."""
    plan = cluster.plan
    command = ["host-prepare", str(plan.directory), directory.MARKER]
    try:
        run_script(
            cluster.docker,
            plan.images["kubernetes"],
            plan.cluster_id,
            command,
            "prepare the host",
            volumes=MODULES,
        )
    except ComponentFailed as error:
        if "does not see" in str(error):
            raise preflight.PreflightError(
                f"the Docker engine does not see {plan.directory}, which this process made: pytest seems to run "
                "in a container whose files the engine cannot see (docker-outside-of-docker). The components "
                "mount that directory from the engine's host, publish the apiserver on the host's loopback and "
                "watch this process from the host: run pytest on the engine's host, or point the tests at an "
                "existing cluster"
            ) from error
        raise


def _docker_socket() -> str:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    return host.removeprefix("unix://") if host.startswith("unix://") else "/var/run/docker.sock"
