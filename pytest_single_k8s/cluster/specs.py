"""Every container of a cluster, as ContainerSpecs made from its plan: the components, the
network holder and the reaper. Every unusual flag carries one comment saying why."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from ..engine.containers import ContainerSpec
from ..engine.labels import LEASE_LABEL, REAPER_LABEL, REAPER_NAME
from ..engine.oneshot import HOST_NAMESPACES
from .certificates import FRONT_PROXY_CLIENT
from .credentials import CLIENT_FILES
from .directory import POD_LOGS, VOLUMES
from .names import (
    APISERVER,
    APISERVER_PORT,
    CONTROLLER_MANAGER,
    CONTROLLER_MANAGER_PORT,
    CRI_SOCKET,
    ETCD,
    HOST_NAME,
    KUBECTL,
    KUBELET,
    NETWORK,
    PROXY,
    SCHEDULER,
    SCHEDULER_PORT,
    SERVICE_CIDR,
)
from .plan import ClusterPlan


def components(plan: ClusterPlan, files: Mapping[str, bytes] | None = None) -> dict[str, ContainerSpec]:
    """Every component's container (and the network holder), by component. Each gets, of `files` (path
    -> content: keys, certificates, kubeconfigs, configs), those its command or environment names and
    those that these name in turn: its own keys and the CA's certificate, never another's key (the
    CA's key is not even written: pki.py). The kubectl container also keeps what this process's
    clients of the cluster need (credentials.py), for the processes that did not make it."""
    specs = [
        network(plan),
        etcd(plan),
        apiserver(plan),
        scheduler(plan),
        controller_manager(plan),
        kubelet(plan),
        proxy(plan),
        kubectl(plan),
    ]
    files = files or {}
    kept = {KUBECTL: [plan.pki(name) for name in CLIENT_FILES]}
    return {
        spec.component: dataclasses.replace(
            spec, files=named(files, spec.command, spec.environment, kept.get(spec.component, []))
        )
        for spec in specs
    }


def named(files: Mapping[str, bytes], *texts: object) -> dict[str, bytes]:
    """The files among `files` that the texts name, and the ones those files name in turn."""
    chosen: dict[str, bytes] = {}
    pending = [json.dumps(texts)]
    while pending:
        text = pending.pop()
        for path, content in files.items():
            if path not in chosen and path in text:
                chosen[path] = content
                pending.append(content.decode(errors="replace"))
    return chosen


# Where the kubelet's container has the engine's socket: not below /var/run, a symlink to /run in the image, which
# Docker 28 refuses to follow when it writes the container's files (put_archive: "path escapes from parent").
ENGINE_SOCKET = "/run/docker.sock"


def _spec(plan: ClusterPlan, component: str, image: str, command: list[str], **options) -> ContainerSpec:
    return ContainerSpec(
        plan.container_name(component),
        plan.images[image],
        [*command, *plan.extra_args.get(component, ())],
        plan.labels(component),
        **options,
    )


def _in_network(plan: ClusterPlan, component: str, image: str, command: list[str], **options) -> ContainerSpec:
    return _spec(plan, component, image, command, network_mode=f"container:{plan.container_name(NETWORK)}", **options)


def network(plan: ClusterPlan) -> ContainerSpec:
    return _spec(
        plan,
        NETWORK,
        "pause",
        [],
        network_mode="bridge",
        # On the engine host's loopback, unless this process reaches that host from elsewhere (engine/addresses.py).
        ports={f"{APISERVER_PORT}/tcp": (plan.api_bind, plan.apiserver_host_port)},
        # The control plane has no cluster DNS; containers joining this one share its /etc/hosts.
        extra_hosts={HOST_NAME: plan.webhook_ip},
    )


def etcd(plan: ClusterPlan) -> ContainerSpec:
    return _in_network(
        plan,
        ETCD,
        "etcd",
        [
            "etcd",
            "--name=pytest-single-k8s",
            "--data-dir=/var/lib/etcd",  # in the container's own filesystem: it goes with the container
            "--listen-client-urls=https://127.0.0.1:2379",
            "--advertise-client-urls=https://127.0.0.1:2379",
            "--listen-peer-urls=https://127.0.0.1:2380",
            "--initial-advertise-peer-urls=https://127.0.0.1:2380",
            "--initial-cluster=pytest-single-k8s=https://127.0.0.1:2380",
            f"--cert-file={plan.pki('etcd-server.crt')}",
            f"--key-file={plan.pki('etcd-server.key')}",
            f"--trusted-ca-file={plan.pki('ca.crt')}",
            "--client-cert-auth=true",
            f"--peer-cert-file={plan.pki('etcd-server.crt')}",
            f"--peer-key-file={plan.pki('etcd-server.key')}",
            f"--peer-trusted-ca-file={plan.pki('ca.crt')}",
            "--peer-client-cert-auth=true",
            "--unsafe-no-fsync=true",  # a throwaway cluster needs no durability, and fsync dominates start-up
            "--log-level=warn",
        ],
    )


def apiserver(plan: ClusterPlan) -> ContainerSpec:
    return _in_network(
        plan,
        APISERVER,
        "kubernetes",
        [
            "kube-apiserver",
            f"--advertise-address={plan.network_ip}",
            f"--secure-port={APISERVER_PORT}",
            "--etcd-servers=https://127.0.0.1:2379",
            f"--etcd-cafile={plan.pki('ca.crt')}",
            f"--etcd-certfile={plan.pki('apiserver-etcd-client.crt')}",
            f"--etcd-keyfile={plan.pki('apiserver-etcd-client.key')}",
            f"--client-ca-file={plan.pki('ca.crt')}",
            f"--tls-cert-file={plan.pki('apiserver.crt')}",
            f"--tls-private-key-file={plan.pki('apiserver.key')}",
            f"--kubelet-client-certificate={plan.pki('apiserver-kubelet-client.crt')}",
            f"--kubelet-client-key={plan.pki('apiserver-kubelet-client.key')}",
            f"--kubelet-certificate-authority={plan.pki('ca.crt')}",
            "--kubelet-preferred-address-types=InternalIP",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            f"--service-account-key-file={plan.pki('service-account.pub')}",
            f"--service-account-signing-key-file={plan.pki('service-account.key')}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--allow-privileged=true",
            "--profiling=false",
            # Aggregated API servers (the aggregator's conformance spec registers one) trust the user in these
            # headers from the front proxy's certificate alone; the cluster's CA signs it, as it signs every other.
            f"--requestheader-client-ca-file={plan.pki('ca.crt')}",
            f"--requestheader-allowed-names={FRONT_PROXY_CLIENT}",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={plan.pki('front-proxy-client.crt')}",
            f"--proxy-client-key-file={plan.pki('front-proxy-client.key')}",
            *_gate_flags(plan.feature_gates()),
        ],
    )


def scheduler(plan: ClusterPlan) -> ContainerSpec:
    return _control_loop(plan, SCHEDULER, SCHEDULER_PORT, [])


def controller_manager(plan: ClusterPlan) -> ContainerSpec:
    return _control_loop(
        plan,
        CONTROLLER_MANAGER,
        CONTROLLER_MANAGER_PORT,
        [
            f"--service-account-private-key-file={plan.pki('service-account.key')}",
            f"--root-ca-file={plan.pki('ca.crt')}",
            # One identity for every controller, not a ServiceAccount and token each: making ~40 of those
            # one after another held the controllers back by 0.3-0.4 s (certificates.py grants the rights).
            "--use-service-account-credentials=false",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--allocate-node-cidrs=false",
            "--controllers=*,-bootstrapsigner,-tokencleaner",
        ],
    )


def _control_loop(plan: ClusterPlan, component: str, port: int, flags: list[str]) -> ContainerSpec:
    """The scheduler and the controller-manager: clients of the apiserver with a TLS health port."""
    kubeconfig = plan.pki(f"{component}.kubeconfig")
    return _in_network(
        plan,
        component,
        "kubernetes",
        [
            component,
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--leader-elect=false",  # one instance: nothing to elect, and no lease to wait for
            f"--secure-port={port}",
            f"--tls-cert-file={plan.pki(f'{component}-server.crt')}",
            f"--tls-private-key-file={plan.pki(f'{component}-server.key')}",
            "--profiling=false",
            # The controller-manager builds ~40 controllers with ~80 requests; at the default 20 QPS
            # the client-side limiter alone delayed the first ServiceAccount by 5 s.
            "--kube-api-qps=500",
            "--kube-api-burst=1000",
            *flags,
        ],
    )


def kubectl(plan: ClusterPlan) -> ContainerSpec:
    return _in_network(
        plan,
        KUBECTL,
        "kubernetes",
        ["sleep", "infinity"],
        # curl there trusts the cluster's CA: the readiness checks of the scheduler and controller-manager.
        environment={"KUBECONFIG": plan.pki("admin-internal.kubeconfig"), "CURL_CA_BUNDLE": plan.pki("ca.crt")},
    )


def kubelet(plan: ClusterPlan) -> ContainerSpec:
    root, logs = plan.kubelet_root, str(plan.directory / POD_LOGS)
    cri_dockerd = [
        f"--container-runtime-endpoint={CRI_SOCKET}",
        "--network-plugin=",
        f"--pod-infra-container-image={plan.sandbox_image}",
        f"--docker-endpoint=unix://{ENGINE_SOCKET}",
        f"--cri-dockerd-root-directory={plan.directory / 'cri-dockerd'}",
        "--log-level=warn",
        # exec/attach/port-forward streams: the kubelet beside it is the only client (default: all addresses)
        "--streaming-bind-addr=127.0.0.1:0",
    ]
    kubelet = [
        f"--config={plan.etc('kubelet.json')}",
        f"--kubeconfig={plan.pki('kubelet.kubeconfig')}",
        f"--root-dir={root}",
        f"--hostname-override={plan.node_name}",
        f"--node-ip={plan.node_ip}",
    ]
    return _spec(
        plan,
        KUBELET,
        "kubernetes",
        ["node", *cri_dockerd, "--", *kubelet],
        network_mode="host",
        pid_mode="host",
        privileged=True,
        # The kubelet places pods' cgroups beside the engine's: it must see the host's cgroup tree as it is,
        # not the private namespace Docker gives a container on cgroup v2.
        cgroupns="host",
        modules=True,
        volumes=[
            f"{plan.directory / 'cri-dockerd'}:{plan.directory / 'cri-dockerd'}:rw",
            f"{logs}:{logs}:rw",
            # hostPath volumes (the storage addon's) are checked by the kubelet where it runs: the same path.
            f"{plan.directory / VOLUMES}:{plan.directory / VOLUMES}:rw",
            # Same path inside and out, rshared: volumes the kubelet mounts
            # (secrets, tokens) must be seen by the engine that starts pods.
            f"{root}:{root}:rshared",
            f"{plan.docker_socket}:{ENGINE_SOCKET}:rw",
            # cri-dockerd links pod logs to the engine's json log files and rewrites sandboxes' resolv.conf.
            f"{plan.docker_root}:{plan.docker_root}:rw",
            "/sys/fs/cgroup:/sys/fs/cgroup:rw",
            # With Docker's systemd cgroup driver the kubelet asks systemd for pods' slices: it needs
            # /run/systemd/system (the sign that systemd runs) and systemd's private socket.
            *(["/run/systemd:/run/systemd:rw"] if plan.cgroup_driver == "systemd" else []),
        ],
    )


def proxy(plan: ClusterPlan) -> ContainerSpec:
    return _spec(
        plan,
        PROXY,
        "kubernetes",
        # The host's iptables backend; the Service network fenced (images/kubernetes/service-fence).
        [
            "with-host-iptables",
            "service-fence",
            plan.pod_cidr,
            SERVICE_CIDR,
            "kube-proxy",
            f"--config={plan.etc('kube-proxy.json')}",
        ],
        network_mode="host",
        privileged=True,
        modules=True,
    )


def reaper(plan: ClusterPlan, teardown: dict[str, Any]) -> ContainerSpec:
    """Deletes the cluster once no session holds a lease on it (engine/lease.py), if the last one
    ended without deleting it (images/kubernetes/reaper/main.go). Its fixed name is the engine lock;
    it removes itself when done. A kept cluster's reaper watches no lease: it holds the engine until
    the cluster is deleted."""
    leases = "" if plan.keep else f"{LEASE_LABEL}={plan.cluster_id}"
    orders = {"leases": leases, "lock": {"name": REAPER_NAME, "label": REAPER_LABEL}, "teardown": teardown}
    return ContainerSpec(
        REAPER_NAME,
        plan.images["kubernetes"],
        ["reaper", json.dumps(orders)],
        {REAPER_LABEL: plan.cluster_id, **plan.whose()},
        **HOST_NAMESPACES,
        volumes=[f"{plan.docker_socket}:/var/run/docker.sock:rw"],
        modules=True,
        auto_remove=True,
    )


def _gate_flags(gates: dict[str, bool]) -> list[str]:
    if not gates:
        return []
    return ["--feature-gates=" + ",".join(f"{k}={str(v).lower()}" for k, v in sorted(gates.items()))]
