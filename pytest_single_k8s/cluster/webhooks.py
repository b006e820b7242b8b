"""Admission webhooks served by the test process: what such a server needs, and the clean-up of
webhook configurations that point at this host, so that a dead one never blocks later requests.

The control plane reaches this process as HOST_NAME (an /etc/hosts entry of the network container
that the apiserver shares), at ClusterPlan.webhook_ip: the host's address on Docker's default
bridge where pytest runs on the engine's host, else this process's address as the engine's host
sees it (engine/addresses.py). A serving certificate for that name, signed by the cluster's CA,
is made with the cluster.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import kubernetes.client

from . import credentials
from .handle import Cluster
from .names import HOST_NAME, KUBECTL

REQUEST_TIMEOUT = 5


@dataclass(frozen=True)
class Webhook:
    host: str  # the name the apiserver resolves to this host
    bind_address: str  # where a server must listen for the apiserver to reach it
    cert_file: str  # a serving certificate for `host`, and its key
    key_file: str
    ca_bundle: str  # base64 PEM of the CA that signed it: a webhook configuration's caBundle

    def url(self, port: int, path: str = "/") -> str:
        """The URL to register for a server on `port`."""
        return f"https://{self.host}:{port}/{path.lstrip('/')}"

    def server_context(self) -> ssl.SSLContext:
        """A TLS context for the server, with the certificate loaded."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    @contextlib.contextmanager
    def serve(self, handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
        """Serve `handler` over TLS where the apiserver reaches it, in a thread, on a free port (yielded);
        stopped on leaving."""
        server = ThreadingHTTPServer((self.bind_address, 0), handler)
        server.socket = self.server_context().wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, name="k8s-webhook", daemon=True).start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()
            server.server_close()


def for_cluster(cluster: Cluster) -> Webhook:
    held = cluster.credentials
    return Webhook(
        host=HOST_NAME,
        bind_address=cluster.plan.webhook_ip,
        cert_file=str(held.path(credentials.WEBHOOK_CERTIFICATE)),
        key_file=str(held.path(credentials.WEBHOOK_KEY)),
        ca_bundle=base64.b64encode(held.contents[credentials.CA]).decode(),
    )


def unreachable(cluster: Cluster, webhook: Webhook) -> str | None:
    """Why the apiserver cannot reach a server of this process at the webhook's address, or None. Tried
    from the kubectl container, which shares the apiserver's network namespace and /etc/hosts: a
    listener here that closes what it accepts, and curl there to HOST_NAME."""
    try:
        listener = socket.create_server((webhook.bind_address, 0))
    except OSError as error:
        return f"this process cannot listen on {webhook.bind_address}: {error}"
    with listener:
        threading.Thread(target=_close_one, args=(listener,), name="k8s-webhook-probe", daemon=True).start()
        url = f"http://{webhook.host}:{listener.getsockname()[1]}/"
        command = ["curl", "-sS", "-o", "/dev/null", "--max-time", str(REQUEST_TIMEOUT), url]
        code, output = cluster.container(KUBECTL).exec_run(command)
    if code in (52, 56):  # no answer, or the connection reset: the listener was reached
        return None
    said = output.decode(errors="replace").strip()
    return f"the apiserver does not reach this process at {webhook.bind_address} ({webhook.host}): {said}"


def _close_one(listener: socket.socket) -> None:
    try:
        listener.accept()[0].close()
    except OSError:  # closed unreached
        pass


def remove_pointing_here(api_client: kubernetes.client.ApiClient, host: str = HOST_NAME) -> list[str]:
    """Delete every validating and mutating webhook configuration with a webhook whose URL names
    `host`, however it was made; returns their kinds and names."""
    api = kubernetes.client.AdmissionregistrationV1Api(api_client)
    kinds = (
        ("ValidatingWebhookConfiguration", api.list_validating_webhook_configuration,
         api.delete_validating_webhook_configuration),
        ("MutatingWebhookConfiguration", api.list_mutating_webhook_configuration,
         api.delete_mutating_webhook_configuration),
    )  # fmt: skip
    removed = []
    for kind, listing, delete in kinds:
        configurations: list[Any] = listing(_request_timeout=REQUEST_TIMEOUT).items
        for configuration in configurations:
            urls = [(hook.client_config.url or "") for hook in configuration.webhooks or []]
            if any(urllib.parse.urlsplit(url).hostname == host for url in urls):
                name = configuration.metadata.name
                try:
                    delete(name, _request_timeout=REQUEST_TIMEOUT)
                except kubernetes.client.ApiException as error:
                    if error.status != 404:
                        raise
                removed.append(f"{kind}/{name}")
    return removed
