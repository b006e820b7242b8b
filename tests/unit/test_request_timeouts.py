"""A hung apiserver (a real port that takes connections and never answers) fails k8s_namespace,
k8s_apply and the addons' start within their request timeouts (shortened here) instead of hanging
the test. Each call runs in a thread with a deadline, so that this test itself cannot hang."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

import kubernetes.client
import pytest

from pytest_single_k8s.cluster import addons, apply, namespaces
from pytest_single_k8s.cluster.apply import Applier

from .servers import DISCOVERY, serving, silent
from .test_addons import IMAGES
from .test_components import plan

TIMEOUT = 0.5  # seconds, for every request below; a GET or DELETE is tried 4 times (urllib3's retries)
DEADLINE = 15  # seconds for one call here: without a request timeout it would never return
CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "1"}}


def client_of(port: int) -> kubernetes.client.ApiClient:
    configuration = kubernetes.client.Configuration()
    configuration.host = f"http://127.0.0.1:{port}"
    return kubernetes.client.ApiClient(configuration)


def raised_within(call: Callable[[], object]) -> BaseException:
    """What `call` raised, run in a thread; fails if it still runs after DEADLINE or returns."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(DEADLINE)
    assert not thread.is_alive(), f"still waiting after {DEADLINE}s: a request without a timeout"
    assert outcome[0] is not None, "returned, from a server that never answers"
    return outcome[0]


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch):
    for module, name in ((namespaces, "REQUEST_TIMEOUT"), (apply, "REQUEST_TIMEOUT"), (addons, "CREATE_TIMEOUT")):
        monkeypatch.setattr(module, name, TIMEOUT)
    monkeypatch.setattr(addons, "REQUEST_TIMEOUT", TIMEOUT)


def test_k8s_namespace_s_create_and_delete_time_out():
    with silent() as port:
        assert "timed out" in str(raised_within(lambda: namespaces.create(client_of(port), "hung")))
        assert "timed out" in str(raised_within(lambda: namespaces.delete(client_of(port), "hung")))


class DiscoveryOnly(BaseHTTPRequestHandler):
    """An apiserver that answers discovery (the core group) and hangs on everything else."""

    protocol_version = "HTTP/1.1"
    hung = threading.Event()  # set at the end of the test: the handlers that hang return

    def do_GET(self) -> None:
        if self.path not in DISCOVERY:
            self.hung.wait(DEADLINE)
            return
        body = json.dumps(DISCOVERY[self.path]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_k8s_apply_s_discovery_and_its_requests_time_out(tmp_path):
    with silent() as port:
        assert "timed out" in str(raised_within(lambda: Applier(client_of(port), "test", tmp_path / "a.json")))
    try:
        with serving("127.0.0.1", DiscoveryOnly) as port:
            applier = Applier(client_of(port), "test", tmp_path / "b.json")
            assert "timed out" in str(raised_within(lambda: applier(CONFIG_MAP, wait=False)))
    finally:
        DiscoveryOnly.hung.set()


def test_the_addons_start_times_out(tmp_path):
    with silent() as port:
        storage = plan(directory=tmp_path, images=IMAGES, addons=("storage",))
        assert "timed out" in str(raised_within(lambda: addons.apply(client_of(port), storage, b"CA")))
