"""Real local servers for the clients under test: HTTP(S) in a thread, one that never answers, a dead port."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# What an apiserver's discovery answers for its core group (ConfigMaps and Namespaces) and no other group:
# enough for a DynamicClient (k8s_apply) to find its resources.
DISCOVERY: dict[str, Any] = {
    "/version": {"major": "1", "minor": "37", "gitVersion": "v1.37.2"},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
    "/api/v1": {
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {"name": "configmaps", "namespaced": True, "kind": "ConfigMap", "verbs": ["get", "patch"]},
            {"name": "namespaces", "namespaced": False, "kind": "Namespace", "verbs": ["get", "patch"]},
        ],
    },
}


def dead_port() -> int:
    """A port on 127.0.0.1 that refuses connections: bound once, closed again."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(
    address: str, handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext | None = None
) -> Iterator[int]:
    """Serve `handler` on `address` (over TLS with `context`) in a thread; yields the port."""
    server = ThreadingHTTPServer((address, 0), handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def silent(address: str = "127.0.0.1") -> Iterator[int]:
    """A port that takes connections (the kernel completes them) and never answers: a hung server."""
    with socket.create_server((address, 0), backlog=64) as sock:
        yield sock.getsockname()[1]
