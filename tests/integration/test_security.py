"""The cluster is secured as a real one: TLS everywhere, no anonymous access, nothing exposed."""

import json
import os
import socket
import ssl
import stat
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from kubernetes import client

from pytest_single_k8s.cluster import directory
from pytest_single_k8s.cluster import names as c
from pytest_single_k8s.cluster.credentials import CA, CLIENT_FILES
from pytest_single_k8s.engine import labels

pytestmark = pytest.mark.k8s


def tls_ports(cluster):
    plan = cluster.plan
    return {
        "kube-apiserver": ("127.0.0.1", cluster.api_port),
        "kube-scheduler": (plan.network_ip, c.SCHEDULER_PORT),
        "kube-controller-manager": (plan.network_ip, c.CONTROLLER_MANAGER_PORT),
        "kubelet": (plan.node_ip, 10250),
    }


def test_every_component_port_speaks_tls_signed_by_the_cluster_ca(k8s_cluster):
    context = ssl.create_default_context(cafile=k8s_cluster.credentials.path(CA))
    context.check_hostname = False  # the names are checked by the components' clients; here: the chain
    for component, (host, port) in tls_ports(k8s_cluster).items():
        with socket.create_connection((host, port), timeout=5) as raw, context.wrap_socket(raw) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3"), component
        with socket.create_connection((host, port), timeout=5) as raw:  # plain HTTP gets no HTTP answer
            raw.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            assert not raw.recv(100).startswith(b"HTTP/1.0 200"), component


def test_etcd_demands_a_client_certificate(k8s_cluster):
    # etcd listens on loopback in the control plane's network namespace, which the apiserver's container
    # shares; only that container holds the apiserver's etcd client key.
    apiserver = k8s_cluster.container(c.APISERVER)
    ca = k8s_cluster.plan.pki("ca.crt")
    code, output = apiserver.exec_run(["curl", "-sS", "--cacert", ca, "https://127.0.0.1:2379/health"])
    # curl's TLS and connection errors (35 handshake, 55/56 the server ended the session): etcd wanted a certificate
    assert code in (35, 55, 56), output
    assert b"health" not in output, output
    certificate = [
        "--cert",
        k8s_cluster.plan.pki("apiserver-etcd-client.crt"),
        "--key",
        k8s_cluster.plan.pki("apiserver-etcd-client.key"),
    ]
    code, output = apiserver.exec_run(["curl", "-sS", "--cacert", ca, *certificate, "https://127.0.0.1:2379/health"])
    assert code == 0, output
    assert b'"health":"true"' in output, output


def anonymous(url, cluster):
    context = ssl.create_default_context(cafile=cluster.credentials.path(CA))
    context.check_hostname = False
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_anonymous_requests_get_no_resources(k8s_cluster):
    server = k8s_cluster.server
    assert anonymous(f"{server}/api/v1/namespaces", k8s_cluster) == 403
    assert anonymous(f"{server}/api/v1/namespaces/kube-system/secrets", k8s_cluster) == 403
    assert anonymous(f"https://{k8s_cluster.plan.node_ip}:10250/pods", k8s_cluster) == 401
    assert anonymous(f"{server}/readyz", k8s_cluster) == 200  # health stays public, as in any cluster


def test_nothing_is_published_beyond_loopback_and_etcd_not_at_all(k8s_cluster):
    containers = k8s_cluster.docker.containers.list(
        filters={"label": f"{labels.CLUSTER_LABEL}={k8s_cluster.plan.cluster_id}"}
    )
    published = {
        (x.labels[labels.COMPONENT_LABEL], port, binding["HostIp"])
        for x in containers
        for port, bindings in (x.attrs["NetworkSettings"]["Ports"] or {}).items()
        for binding in bindings or []
    }
    assert {(component, port) for component, port, _ in published} == {(c.NETWORK, "6443/tcp")}
    assert {ip for _, _, ip in published} == {"127.0.0.1"}


def listening_addresses(pids):
    """Local addresses of the TCP sockets the processes listen on, from /proc (root only)."""
    inodes = set()
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}") if os.path.islink(f"/proc/{pid}/fd/{fd}") else ""
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        with open(f"/proc/net/{table}") as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    address, port = fields[1].split(":")
                    raw = bytes.fromhex(address)
                    raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                    found.add((socket.inet_ntop(family, raw), int(port, 16)))
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason="reading other processes' sockets needs root")
def test_node_agents_on_the_host_network_listen_on_no_external_address(k8s_cluster):
    pids = []
    for component in (c.KUBELET, c.PROXY):
        top = k8s_cluster.container(component).top(ps_args="-o pid")
        pids += [int(row[0]) for row in top["Processes"]]
    addresses = listening_addresses(pids)
    assert addresses, "found no listening socket at all: the check would prove nothing"
    allowed = {"127.0.0.1", "::1", k8s_cluster.plan.node_ip}
    assert {address for address, _ in addresses} <= allowed, addresses


def test_a_service_account_cannot_read_secrets_of_another_namespace(k8s_client, k8s_namespace, k8s_cluster):
    core = client.CoreV1Api(k8s_client)
    other = f"{k8s_namespace}-other"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    try:
        core.create_namespaced_secret(
            other, client.V1Secret(metadata=client.V1ObjectMeta(name="s"), string_data={"k": "v"})
        )
        request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[]))
        issued = core.create_namespaced_service_account_token("default", k8s_namespace, request).status
        assert issued is not None
        token = issued.token
        configuration = client.Configuration()
        configuration.host = k8s_cluster.server
        configuration.ssl_ca_cert = str(k8s_cluster.credentials.path(CA))
        configuration.api_key = {"authorization": f"Bearer {token}"}
        as_pod = client.CoreV1Api(client.ApiClient(configuration))
        with pytest.raises(client.ApiException) as denied:
            as_pod.read_namespaced_secret("s", other)
        assert denied.value.status == 403
        assert f"system:serviceaccount:{k8s_namespace}:default" in str(denied.value.body)
    finally:
        core.delete_namespace(other)


def test_no_key_is_on_a_disk_of_this_process_or_in_the_cluster_s_directory(k8s_cluster):
    """This process holds its credentials in memory files; the engine's host keeps only the node's
    directories (this test runs on it: it reads the directory as the engine's host has it)."""
    for name in CLIENT_FILES:
        assert os.readlink(k8s_cluster.credentials.path(name)).startswith("/memfd:"), name
    place = k8s_cluster.plan.directory
    assert stat.S_IMODE(place.stat().st_mode) == 0o700
    assert sorted(os.listdir(place)) == sorted([*directory.SUBDIRECTORIES, directory.MARKER, "host-state"])


def test_each_component_holds_only_its_own_keys_and_the_ca_key_is_nowhere(k8s_cluster):
    plan = k8s_cluster.plan
    pki = Path(plan.pki_directory)
    held = {}
    for component in c.COMPONENTS:
        container = k8s_cluster.container(component)
        # The files went in through the engine, into the container's own filesystem: nothing is mounted.
        assert not [m for m in container.attrs["Mounts"] if m["Source"].startswith(str(pki))], component
        code, output = container.exec_run(["find", str(pki), "-type", "f", "-printf", "%f %m\n"])
        assert code == 0, output
        files = dict(line.split() for line in output.decode().splitlines())
        assert set(files.values()) == {"600"}, (component, files)
        held[component] = set(files)
    keys = {
        component: {name for name in names if name.endswith((".key", ".kubeconfig"))}
        for component, names in held.items()
    }
    assert keys == {
        c.ETCD: {"etcd-server.key"},
        c.APISERVER: {
            "apiserver.key",
            "apiserver-etcd-client.key",
            "apiserver-kubelet-client.key",
            "front-proxy-client.key",
            "service-account.key",
        },
        c.SCHEDULER: {"kube-scheduler.kubeconfig", "kube-scheduler-server.key"},
        c.CONTROLLER_MANAGER: {
            "kube-controller-manager.kubeconfig",
            "kube-controller-manager-server.key",
            "service-account.key",
        },
        c.KUBELET: {"kubelet.kubeconfig", "kubelet-server.key"},
        c.PROXY: {"kube-proxy.kubeconfig"},
        # and what clients need, for the processes that did not make the cluster (credentials.py)
        c.KUBECTL: {"admin-internal.kubeconfig", "admin.key", "webhook-server.key"},
    }
    assert not any("ca.key" in names for names in held.values())  # every certificate was issued at the start


def test_no_pod_of_ours_can_pull_its_image_from_a_registry(k8s_cluster):
    """Our images have names only this engine resolves (localhost/), our pods never pull them, and each
    cluster's sandboxes run its own image."""
    pods = json.loads(k8s_cluster.kubectl("get", "pods", "--all-namespaces", "-o", "json"))["items"]
    ours = [pod for pod in pods if pod["metadata"]["namespace"] in ("kube-system", "local-path-storage")]
    assert ours, "no addon pod found: the check would prove nothing"
    for pod in ours:
        for container in pod["spec"]["containers"]:
            assert container["image"].startswith("localhost/pytest-single-k8s/"), container["image"]
            assert container["imagePullPolicy"] == "Never", (pod["metadata"]["name"], container["name"])
    for ref in k8s_cluster.plan.images.values():
        assert ref.startswith("localhost/pytest-single-k8s/"), ref
    sandboxes = k8s_cluster.docker.containers.list(filters={"label": [labels.POD_UID_LABEL, f"{labels.LABEL}=pause"]})
    assert sandboxes
    for sandbox in sandboxes:
        assert sandbox.labels[labels.CLUSTER_LABEL] == k8s_cluster.plan.cluster_id
        assert sandbox.attrs["Config"]["Image"] == k8s_cluster.plan.sandbox_image
