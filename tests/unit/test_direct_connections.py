"""Behind an HTTP proxy (HTTP(S)_PROXY at a dead port) the cluster's own addresses are still reached:
the readiness checks, our kubernetes clients (REST, exec's WebSocket, the async one) and the engine's
socket never go through the proxy. Each against a real local server."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import json
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import docker
import kubernetes.client
import pytest
from kubernetes.stream import stream

from pytest_single_k8s.cluster import certificates, readiness
from pytest_single_k8s.cluster.credentials import CA, CLIENT_FILES, Credentials
from pytest_single_k8s.cluster.external import ExternalCluster
from pytest_single_k8s.cluster.handle import Cluster
from pytest_single_k8s.cluster.names import NODE_NAME
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.plugin import asynchronous

from .servers import dead_port, serving
from .test_components import plan

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeApiserver(BaseHTTPRequestHandler):
    """What the clients under test ask of an apiserver: /readyz and /healthz, a node, an exec's handshake."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.headers.get("Upgrade", "").lower() == "websocket":
            key = self.headers["Sec-WebSocket-Key"] + WEBSOCKET_GUID
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", base64.b64encode(hashlib.sha1(key.encode()).digest()).decode())
            self.send_header("Sec-WebSocket-Protocol", "v4.channel.k8s.io")
            self.end_headers()
            self.close_connection = True
        elif self.path in ("/readyz", "/healthz"):
            self._send("text/plain", b"ok")
        elif self.path == f"/api/v1/nodes/{NODE_NAME}":
            node = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": NODE_NAME},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]},
            }
            self._send("application/json", json.dumps(node).encode())
        else:
            self.send_error(404)

    def _send(self, content_type: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def outward_address() -> str:
    """This host's address towards the network (a UDP connect sends nothing), else 127.0.0.2:
    either way an address that NO_PROXY=localhost,127.0.0.1 does not name, as 172.17.0.2 is not."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only a route is looked up
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.2"


@pytest.fixture
def dead_proxy(monkeypatch):
    """Every proxy variable at a port that refuses connections, and no NO_PROXY."""
    url = f"http://127.0.0.1:{dead_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, url)
        monkeypatch.setenv(name.lower(), url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return url


@pytest.fixture(params=["NO_PROXY=localhost,127.0.0.1, a bridge-like address", "no NO_PROXY, 127.0.0.1"])
def address(request, dead_proxy, monkeypatch):
    """Where a component answers, and the NO_PROXY that does not name it."""
    if request.param.startswith("no NO_PROXY"):
        return "127.0.0.1"
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    monkeypatch.setenv("no_proxy", "localhost,127.0.0.1")
    return outward_address()


def cluster_at(tmp_path, address: str) -> tuple[Cluster, ssl.SSLContext]:
    """A Cluster handle with its real PKI (the apiserver's certificate names `address` too), no containers;
    and the apiserver's TLS context. Its apiserver is to be served on 127.0.0.1 (Cluster.server)."""
    cluster_plan = plan(directory=tmp_path / "cluster", network_ip=address)
    issued = certificates.issue(cluster_plan)
    for name in ("apiserver.crt", "apiserver.key"):
        (tmp_path / name).write_bytes(issued[name])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "apiserver.crt", tmp_path / "apiserver.key")
    cluster = Cluster(None, cluster_plan, Status(io.StringIO()), api_port=1)  # the port once the server has one
    cluster.credentials = Credentials({name: issued[name] for name in CLIENT_FILES}, cluster.server)
    return cluster, context


def test_the_readiness_checks_reach_a_component_directly(tmp_path, address):
    cluster, context = cluster_at(tmp_path, address)
    with serving(address, FakeApiserver, context) as tls_port:
        ca = str(cluster.credentials.path(CA))
        server = f"https://{address}:{tls_port}"
        checks = readiness.Readiness(
            None, cluster.plan, [server], cluster.use_server, ca, cluster.api_client, cluster.status
        ).checks()
        # The one check made from this process; the others are made through the engine or the apiserver.
        assert checks[readiness.APISERVER_READY][1]() == "ok"


@contextlib.contextmanager
def apiserver_of(cluster: Cluster, context: ssl.SSLContext) -> Iterator[None]:
    """The cluster's apiserver at 127.0.0.1, its port in the handle and the admin kubeconfig."""
    with serving("127.0.0.1", FakeApiserver, context) as port:
        old = cluster.credentials
        cluster.api_port = port
        cluster.credentials = Credentials(old.contents, cluster.server)
        old.close()
        yield


def test_our_api_client_reaches_our_apiserver_directly_for_rest_and_exec(tmp_path, dead_proxy):
    cluster, context = cluster_at(tmp_path, "127.0.0.1")
    with apiserver_of(cluster, context):
        core = kubernetes.client.CoreV1Api(cluster.api_client)
        status = core.read_node(NODE_NAME, _request_timeout=5).status
        assert status is not None
        assert [(c.type, c.status) for c in status.conditions or []] == [("Ready", "True")]
        session = stream(
            core.connect_get_namespaced_pod_exec,
            "pod",
            "default",
            command=["true"],
            stdout=True,
            _preload_content=False,
            _request_timeout=5,
        )  # returns once the WebSocket handshake is done
        session.close()


def test_the_async_client_reaches_our_apiserver_directly(tmp_path, dead_proxy):
    pytest.importorskip("kubernetes_asyncio")
    from kubernetes_asyncio import client

    cluster, context = cluster_at(tmp_path, "127.0.0.1")

    async def read_node() -> list[str]:
        return [
            (await client.CoreV1Api(api).read_node(NODE_NAME, _request_timeout=5)).metadata.name
            async for api in asynchronous._api_client(cluster)  # the fixture's: one client, closed after
        ]

    with apiserver_of(cluster, context):
        assert asyncio.run(read_node()) == [NODE_NAME]


class FakeEngine(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"OK" if self.path.endswith("/_ping") else b""
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def test_the_engine_client_over_a_unix_socket_ignores_the_proxy(tmp_path, dead_proxy):
    path = tmp_path / "engine.sock"
    with UnixServer(str(path), FakeEngine) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            assert docker.DockerClient(base_url=f"unix://{path}", version="1.41", timeout=5).ping()
        finally:
            server.shutdown()


def test_a_cluster_not_ours_keeps_the_proxy_as_kubectl_would(tmp_path, dead_proxy):
    cluster, _ = cluster_at(tmp_path, "127.0.0.1")
    external = ExternalCluster(cluster.kubeconfig)
    assert external.configuration.proxy == dead_proxy
    external.close()
