"""k8s_apply on a cluster not ours takes no field over and never deletes what was there before; on ours
the manifest wins (server-side apply's force). The decisions as functions, then the Applier's requests
as a real local server sees them (its answers: the apiserver's statuses, 201 for a created object)."""

from __future__ import annotations

import json
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from pytest_single_k8s.cluster.apply import Applier, conflict_message, deletes_after
from pytest_single_k8s.errors import SingleK8sError

from .servers import DISCOVERY, serving
from .test_request_timeouts import client_of

# The apiserver's answer to an apply without force that meets another manager's field (fieldmanager's
# NewConflictError): one cause per field, naming the manager as printManager prints it.
CONFLICT = {
    "kind": "Status",
    "apiVersion": "v1",
    "status": "Failure",
    "message": 'Apply failed with 2 conflicts: conflicts with "helm" using v1:\n- .data.color\n- .data.size\n'
    'conflicts with "kubectl-client-side-apply" using v1:\n- .metadata.labels.team',
    "reason": "Conflict",
    "details": {
        "name": "settings",
        "kind": "configmaps",
        "causes": [
            {"reason": "FieldManagerConflict", "message": 'conflict with "helm" using v1', "field": ".data.color"},
            {"reason": "FieldManagerConflict", "message": 'conflict with "helm" using v1', "field": ".data.size"},
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "kubectl-client-side-apply" using v1',
                "field": ".metadata.labels.team",
            },
        ],
    },
    "code": 409,
}


def test_a_conflict_names_the_object_the_managers_and_their_fields():
    message = conflict_message("ConfigMap", "shared/settings", json.dumps(CONFLICT))
    assert message is not None
    assert message.startswith(
        'k8s_apply: ConfigMap shared/settings: the manifest sets fields that other field managers own ("helm" '
        'using v1 owns .data.color, .data.size; "kubectl-client-side-apply" using v1 owns .metadata.labels.team)'
    )
    assert "without force" in message


def test_a_409_of_another_kind_is_left_to_its_own_error():
    already = {"kind": "Status", "reason": "AlreadyExists", "details": {"name": "a"}, "code": 409}
    assert conflict_message("ConfigMap", "a", json.dumps(already)) is None
    assert conflict_message("ConfigMap", "a", "not JSON") is None
    assert conflict_message("ConfigMap", "a", None) is None


@pytest.mark.parametrize(
    ("status", "existed", "deleted"),
    [
        (HTTPStatus.CREATED, False, True),  # this apply made it
        (HTTPStatus.OK, False, False),  # someone else made it since we looked: theirs
        (HTTPStatus.OK, True, False),  # there before the test: updated, never deleted
        (HTTPStatus.CREATED, True, False),  # there before, deleted by the test, made again: still not ours
    ],
)
def test_only_what_the_apply_created_and_was_not_there_before_is_deleted(status, existed, deleted):
    assert deletes_after(status, existed) is deleted


class Apiserver(BaseHTTPRequestHandler):
    """Discovery of ConfigMaps and Namespaces; an object exists once applied or when listed in `existing`;
    an apply without force to a path in `conflicting` is a conflict. Every request is recorded."""

    protocol_version = "HTTP/1.1"
    existing: set[str] = set()
    conflicting: set[str] = set()
    requests: list[str] = []

    def do_GET(self) -> None:
        if self.path in DISCOVERY:
            self._send(200, DISCOVERY[self.path])
            return
        self.requests.append(f"GET {self.path}")
        found = self.path in self.existing
        self._send(200 if found else 404, {"kind": "Status", "code": 200 if found else 404})

    def do_PATCH(self) -> None:
        self.requests.append(f"PATCH {self.path}")
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        path, _, query = self.path.partition("?")
        if path in self.conflicting and "force=true" not in query:
            self._send(409, CONFLICT)
        else:
            self._send(200 if path in self.existing else 201, body)
            self.existing.add(path)

    def _send(self, code: int, answer: dict[str, Any]) -> None:
        body = json.dumps(answer).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def config_map(name: str, namespace: str | None = None) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"color": "blue"}}


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


@pytest.fixture
def apiserver(monkeypatch):
    monkeypatch.setattr(Apiserver, "existing", {"/api/v1/namespaces/shared", "/api/v1/namespaces/shared/configmaps/a"})
    monkeypatch.setattr(Apiserver, "conflicting", {"/api/v1/namespaces/shared/configmaps/a"})
    monkeypatch.setattr(Apiserver, "requests", [])
    with serving("127.0.0.1", Apiserver) as port:
        yield port


def test_on_a_cluster_not_ours_nothing_is_forced_and_what_existed_stays(apiserver, tmp_path):
    applier = Applier(client_of(apiserver), "test", tmp_path / "discovery.json")
    applier([namespace("shared"), namespace("made"), config_map("b", "shared"), config_map("c")], wait=False)
    applier(namespace("made"), wait=False)  # again: updated, still the test's own
    assert [(name, where) for _, name, where in applier.created] == [("made", None), ("b", "shared")]
    assert not [request for request in Apiserver.requests if "force" in request]
    assert "GET /api/v1/namespaces/test/configmaps/c" not in Apiserver.requests  # the test's: no need to ask

    with pytest.raises(SingleK8sError, match=r'^k8s_apply: ConfigMap shared/a: .*"helm" using v1 owns .data.color'):
        applier(config_map("a", "shared"), wait=False)
    assert not any(name == "a" for _, name, _ in applier.created)


def test_on_ours_the_manifest_takes_over_what_others_own(apiserver, tmp_path):
    applier = Applier(client_of(apiserver), "test", tmp_path / "discovery.json", force=True)
    [applied] = applier(config_map("a", "shared"), wait=False)
    assert applied["data"] == {"color": "blue"}
    assert "PATCH /api/v1/namespaces/shared/configmaps/a?fieldManager=pytest-single-k8s&force=true" in (
        Apiserver.requests
    )
    assert applier.created == []  # there before
