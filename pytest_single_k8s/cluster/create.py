"""Creating a cluster: a few steps run in order; if any fails (or Ctrl-C), what was made is deleted.

plan     read the engine (cgroups, bridge, paths) and lay the cluster out
claim    check the engine; attach to a kept cluster with the same settings (reuse.py) or
         else take the engine lock (the reaper, started at once, and this session's lease);
         only then reap what dead sessions left and look for another Kubernetes
network  the network holder; certificates and configs
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
import time
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors

from ..build.images import Images
from ..common.progress import Status
from ..common.steps import parallel
from ..engine import addresses, connection, lock, ownership, preflight
from ..engine.containers import ContainerSpec, create, files_in, labelled, last_logs
from ..engine.labels import CLUSTER_LABEL
from ..errors import ComponentFailed, EngineBusy, ForeignKubernetes
from . import addons, certificates, configs, directory, kept, pods, reaping, reuse, specs, teardown
from .credentials import CLIENT_FILES
from .handle import Cluster
from .host import run_script
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
    RECORD,
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
    engine_address: str | None = None,
) -> Cluster:
    """A cluster for this session: the kept one with the same settings, or a new one. For a new
    one: check the host, claim the engine (waiting up to wait_timeout for another session's
    cluster to end), start every component and wait (up to ready_timeout for each check)
    until the cluster serves pods; on failure, delete. A kept cluster outlives its owner."""
    clock = time.monotonic()  # the zero of Cluster.timings
    info = client.info()  # read once: preflight and the plan both judge by it
    preflight.check_engine(info, client.version())
    reach = addresses.find(client, connection.docker_host(), engine_address)
    plan = plan_cluster(client, info, images, api_port, extra_args or {}, keep, addon_names, reach)
    engine = lock.wait_for_engine(
        client, status, wait_timeout, functools.partial(_attach_or_claim, client, plan, status, ready_timeout)
    )
    if isinstance(engine, Cluster):
        return engine
    cluster = Cluster(client, plan, status, created_clock=clock, ready_timeout=ready_timeout)
    try:
        # The claim held at once, beside the rest: started, the reaper keeps the engine (a claim never
        # started looks stale after a while) and deletes the cluster should this session end without doing
        # so, which the session's lease tells it. Only now that the engine is ours: what dead sessions left,
        # then whether another Kubernetes is here.
        with status.step("Preparing network and certificates"):
            _, _, files = parallel(
                [functools.partial(_start_reaper, engine), cluster.hold, functools.partial(_network, cluster)]
            )
        _start(cluster, files)
        kept.write_state(client, plan.cluster_id, cluster.state())
    except BaseException:
        status.info(" • Deleting the failed cluster ...")
        try:
            cluster.delete()
        except Exception as cleanup:  # noqa: BLE001 - the first error is the one to report
            status.info(f" ✗ The clean-up failed too: {cleanup}")
        raise
    return cluster


def _attach_or_claim(client: docker.DockerClient, plan: ClusterPlan, status: Status, ready_timeout: float) -> Any:
    """The kept cluster with the plan's settings, attached; else the engine, claimed: our reaper,
    created under the lock's name (started with the cluster). EngineBusy while another session's
    cluster holds the engine; a kept cluster no session uses is deleted first, and a claim whose
    claimer died before starting its reaper is taken away."""
    attached = reuse.attach_or_clear(client, plan, status, ready_timeout)
    if attached is not None:
        return attached
    orders = teardown.as_json(teardown.plan(plan.cluster_id, plan.directory), _record(plan))
    try:
        return lock.claim(client, specs.reaper(plan, orders))
    except EngineBusy:
        lock.remove_stale(client)
        raise


def _record(plan: ClusterPlan) -> ContainerSpec:
    return teardown.record(plan.cluster_id, plan.directory, plan.images["kubernetes"], plan.labels(RECORD))


def plan_cluster(
    client: docker.DockerClient,
    info: dict[str, Any],
    images: Images,
    api_port: int | None,
    extra_args: dict[str, tuple[str, ...]],
    keep: bool = False,
    addon_names: tuple[str, ...] = (),
    reach: addresses.Reach = addresses.Reach(addresses.LOOPBACK),
) -> ClusterPlan:
    """Lay out a new cluster from what the engine says (`docker info`: cgroups, paths; its bridge).
    Nothing is made: its directory only once the engine is ours."""
    bridge = next(
        entry
        for entry in client.networks.get("bridge").attrs["IPAM"]["Config"]
        if ipaddress.ip_network(entry["Subnet"]).version == 4
    )
    cluster_id = secrets.token_hex(4)
    return ClusterPlan(
        cluster_id=cluster_id,
        directory=directory.path_for(cluster_id),
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
        api_bind=reach.api_bind,
        engine_host=reach.engine_host,
        engine_host_ips=reach.engine_host_ips,
        webhook_address=reach.local_address,
        shared_networks=reach.shared_networks,
    )


def _network(cluster: Cluster) -> dict[str, bytes]:
    """What dead sessions left goes and another Kubernetes is refused; then the cluster's network holder
    (the plan learns its address and the apiserver's port); the certificates and configs the components
    get (path -> content), and this process's credentials."""
    client = cluster.docker
    reaping.reap_abandoned(client, cluster.status, holding=cluster.plan.cluster_id)
    pods.refuse_foreign(client)
    _run(client, specs.network(cluster.plan))
    network = cluster.container(NETWORK)
    network.reload()
    if not network.attrs["State"]["Running"]:
        raise ComponentFailed(NETWORK, "exited at start", last_logs(client, network.name, tail=20))
    shared = _join(client, network, cluster.plan.shared_networks)
    settings = network.attrs["NetworkSettings"]
    cluster.plan = plan = dataclasses.replace(
        cluster.plan,
        network_ip=settings["Networks"]["bridge"]["IPAddress"],
        api_addresses=shared,
        upstream_dns=_resolvers(network) if addons.DNS in cluster.plan.addons else (),
    )
    cluster.api_port = int(settings["Ports"][f"{APISERVER_PORT}/tcp"][0]["HostPort"])
    # Where this process may reach the apiserver, best first: readiness.py keeps the first that answers.
    published = () if plan.shared_networks and plan.api_bind == addresses.LOOPBACK else (plan.engine_host,)
    cluster.servers = (
        *(f"https://{address}:{APISERVER_PORT}" for address in shared),
        *(f"https://{host}:{cluster.api_port}" for host in published),
    )
    issued = certificates.issue(plan)
    cluster.client_files = {name: issued[name] for name in CLIENT_FILES}
    return {**issued.files, **{plan.etc(name): text.encode() for name, text in configs.files(plan).items()}}


def _join(client: docker.DockerClient, network: Any, names: tuple[str, ...]) -> tuple[str, ...]:
    """The network holder on the networks of this process's container (engine/addresses.py), where this
    process reaches it as a sibling; its addresses there. Reloaded only where it joined one: on the
    engine's host there is none, and no round trip is spent."""
    others = [name for name in names if name != "bridge"]  # the bridge: where it is already
    for name in others:
        client.networks.get(name).connect(network)
    if others:
        network.reload()
    joined = network.attrs["NetworkSettings"]["Networks"]
    return tuple(joined[name]["IPAddress"] for name in names if joined.get(name, {}).get("IPAddress"))


def _resolvers(network: Any) -> tuple[str, ...]:
    """The engine host's resolvers, as the engine wrote them into the network holder's resolv.conf."""
    return addons.resolvers(files_in(network, "/etc/resolv.conf").get("resolv.conf", b"").decode(errors="replace"))


def _start(cluster: Cluster, files: dict[str, bytes]) -> None:
    client, status, plan = cluster.docker, cluster.status, cluster.plan
    components = specs.components(plan, files)
    readiness = cluster.readiness()
    with status.step(f"Starting Kubernetes {plan.version}: {', '.join(COMPONENTS)}"):
        # The kubelet retries until the apiserver answers, as it does under kubeadm's static pods. It waits
        # only for the host to be prepared, which etcd and the apiserver do not need.
        def node() -> None:
            parallel([functools.partial(_prepare_host, cluster), functools.partial(_sandbox_image, cluster)])
            _run(client, components[KUBELET])

        # etcd and the apiserver first, alone: the engine's work for the others (they are five, with two one-shot
        # containers) would hold them back (0.3 s later, traced), and the rest of the start waits on them.
        parallel(functools.partial(_run, client, components[name]) for name in (ETCD, APISERVER))
        node()
        readiness.wait_answer()

    # The scheduler, controller-manager and kube-proxy would exit or back off had they started before the
    # apiserver was ready (the controller-manager checks it once a second; the others' rights come with its
    # bootstrap roles): they are created during its post-start hooks' one-second sleeps, and started then.
    later = (SCHEDULER, CONTROLLER_MANAGER, PROXY)

    def rest() -> None:
        made = parallel(
            [
                *(functools.partial(_created, client, components[name]) for name in later),
                functools.partial(_run, client, components[KUBECTL]),
            ]
        )
        readiness.wait_apiserver()
        parallel(functools.partial(_started, container, name) for name, container in zip(later, made, strict=False))
        readiness.wait_rest()

    # The addons' objects go in from the apiserver's first answer, while it gets ready and the rest comes up.
    apply = functools.partial(addons.apply, cluster.api_client, plan, files[plan.pki("ca.crt")], readiness.cancel)
    parallel([apply, rest], cancel=readiness.cancel)


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
    """host-prepare: no other Kubernetes may run on the engine's host; the cluster's directory made there,
    the kubelet's root shared; bridged traffic through netfilter (images/kubernetes/host-prepare)."""
    plan = cluster.plan
    command = ["host-prepare", str(plan.directory), plan.cluster_id, *directory.SUBDIRECTORIES]
    try:
        run_script(
            cluster.docker,
            plan.images["kubernetes"],
            plan.cluster_id,
            command,
            "prepare the host",
        )
    except ComponentFailed as error:
        if "another Kubernetes runs on this host" in str(error):
            found = str(error).split("another Kubernetes runs on this host: ", 1)[1].splitlines()[0]
            raise ForeignKubernetes(f"another Kubernetes runs on this host: {found}. {pods.FOREIGN_ADVICE}") from error
        if "cannot share mounts" in str(error):
            raise preflight.unshared_mounts(str(error)) from error
        raise


def _sandbox_image(cluster: Cluster) -> None:
    """The cluster's own sandbox image: our pause image with the cluster's id among its labels, which
    every sandbox inherits (pods.sandboxes), so that a teardown finds this cluster's pods only."""
    plan = cluster.plan
    with _explained(KUBELET, "make the sandbox image for"):
        labelled(cluster.docker, plan.images["pause"], {CLUSTER_LABEL: plan.cluster_id}, plan.sandbox_image)


def _docker_socket() -> str:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    return host.removeprefix("unix://") if host.startswith("unix://") else "/var/run/docker.sock"
