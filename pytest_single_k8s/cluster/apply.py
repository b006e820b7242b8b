"""Applying manifests as deploy tooling does (server-side apply), and waiting for what users wait for.

A manifest is a path (a YAML or JSON file with one or many documents, or a
directory of them), a YAML string, a dict, or a list of dicts. CRDs and
Namespaces go first; once they are in, CRDs are awaited Established and the
discovery cache is refreshed, so that custom objects in the same manifest apply.
Namespaced objects without a namespace go to the default one given. What an
Applier created outside that namespace (cluster-scoped objects above all) it
deletes in cleanup(): the default namespace goes with its test anyway. What was
there before its first apply it never deletes. On our own throwaway cluster it
takes over fields that other managers own (server-side apply's force); on a
cluster not ours, such a conflict is an error that names the object and them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar

import kubernetes.client
import yaml
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError

from ..common.waiting import WaitTimeout, wait_for
from ..errors import SingleK8sError

FIELD_MANAGER = "pytest-single-k8s"
FIRST = ("CustomResourceDefinition", "Namespace")  # what later documents may need
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
DELETION_TIMEOUT = 60  # a CRD goes once its custom objects are gone
REQUEST_TIMEOUT = 60  # seconds for one request: as long as the apiserver itself allows one (admission webhooks)

T = TypeVar("T")
Manifest = str | Path | dict[str, Any] | list[dict[str, Any]]


def documents(manifest: Manifest) -> list[dict[str, Any]]:
    """Every object of a manifest, in order; `kind: List` is unpacked. A str is YAML when it
    holds a line break or `: `, else a path."""
    if isinstance(manifest, dict):
        loaded: list[Any] = [manifest]
    elif isinstance(manifest, list):
        loaded = list(manifest)
    elif isinstance(manifest, Path) or ("\n" not in manifest and ": " not in manifest):
        path = Path(manifest)
        if not path.exists():
            raise SingleK8sError(f"k8s_apply: no such file or directory: {path}")
        files = sorted(p for p in path.rglob("*") if p.suffix in MANIFEST_SUFFIXES) if path.is_dir() else [path]
        loaded = [document for file in files for document in yaml.safe_load_all(file.read_text())]
    else:
        loaded = list(yaml.safe_load_all(manifest))
    found: list[dict[str, Any]] = []
    for item in loaded:
        if not item:
            continue
        if not isinstance(item, dict) or "kind" not in item or "apiVersion" not in item:
            raise SingleK8sError(f"k8s_apply: not a Kubernetes object (no kind or apiVersion): {str(item)[:200]}")
        found.extend(documents(item["items"]) if item["kind"].endswith("List") and "items" in item else [item])
    return found


class TimedDynamicClient(DynamicClient):
    """A DynamicClient whose every request has a timeout, discovery's too: a hung apiserver fails the test."""

    def request(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        params.setdefault("_request_timeout", REQUEST_TIMEOUT)
        return super().request(method, path, body, **params)


class Applier:
    def __init__(
        self,
        api_client: kubernetes.client.ApiClient,
        namespace: str,
        discovery_cache: Path,
        *,
        force: bool = False,  # take over fields other managers own: on a throwaway cluster of ours only
    ) -> None:
        self.dynamic = TimedDynamicClient(api_client, cache_file=str(discovery_cache))
        self.namespace = namespace
        self.force = force
        self.created: list[tuple[Any, str, str | None]] = []  # (resource, name, namespace), to delete
        # Whether each object outside the namespace existed when first applied: (apiVersion, kind, namespace, name).
        self.existed: dict[tuple[str, str, str | None, str], bool] = {}

    def __call__(
        self, manifest: Manifest, *, namespace: str | None = None, wait: bool = True, timeout: float = 120
    ) -> list[dict[str, Any]]:
        """Apply every object of `manifest`; with `wait`, wait within `timeout` until each is ready.
        Returns the objects as the server has them, after the wait where there was one."""
        deadline = time.monotonic() + timeout
        items = documents(manifest)
        first = [item for item in items if item["kind"] in FIRST]
        applied = [self._apply(item, namespace) for item in first]
        if any(item["kind"] == "CustomResourceDefinition" for item in applied):
            applied = [self._wait(item, deadline) if item["kind"] in FIRST else item for item in applied]
            self.dynamic.resources.invalidate_cache()  # the new kinds are served now
        applied += [self._apply(item, namespace) for item in items if item["kind"] not in FIRST]
        return [self._wait(item, deadline) for item in applied] if wait else applied

    def _apply(self, item: dict[str, Any], namespace: str | None) -> dict[str, Any]:
        resource = self.dynamic.resources.get(api_version=item["apiVersion"], kind=item["kind"])
        name = item.get("metadata", {}).get("name")
        if not name:
            raise SingleK8sError(f"k8s_apply: a {item['kind']} without metadata.name")
        target = (item["metadata"].get("namespace") or namespace or self.namespace) if resource.namespaced else None
        outside = target != self.namespace  # the namespace goes with its test, and all that is in it
        key = (item["apiVersion"], item["kind"], target, name)
        if outside and key not in self.existed:
            self.existed[key] = self._exists(resource, name, target)
        try:
            response = self.dynamic.server_side_apply(
                resource,
                body=item,
                namespace=target,
                field_manager=FIELD_MANAGER,
                force_conflicts=self.force or None,  # None: no force parameter
                serialize=False,  # the raw response: its status says whether this apply created the object
            )
        except ConflictError as error:
            message = conflict_message(item["kind"], f"{target}/{name}" if target else name, error.body)
            if message is None:
                raise
            raise SingleK8sError(message) from None
        if outside and deletes_after(response.status, self.existed[key]):
            self.created.append((resource, name, target))
        return json.loads(response.data)

    def _exists(self, resource: Any, name: str, namespace: str | None) -> bool:
        try:
            self.dynamic.get(resource, name=name, namespace=namespace)
        except NotFoundError:
            return False
        return True

    def cleanup(self, timeout: float = DELETION_TIMEOUT) -> None:
        """Delete what was created outside the default namespace, the last first, and wait until it is
        gone: the next test may apply the same CRD, which must not be half deleted then."""
        deleting = []
        while self.created:
            resource, name, namespace = self.created.pop()
            try:
                self.dynamic.delete(resource, name=name, namespace=namespace)
                deleting.append((resource, name, namespace))
            except NotFoundError:
                pass
        deadline = time.monotonic() + timeout
        for resource, name, namespace in deleting:
            self._wait_gone(resource, name, namespace, deadline)

    def _wait_gone(self, resource: Any, name: str, namespace: str | None, deadline: float) -> None:
        def gone() -> None:
            try:
                found = self.dynamic.get(resource, name=name, namespace=namespace)
            except NotFoundError:
                return
            finalizers = list(found.metadata.finalizers or [])
            raise AssertionError(f"still there, finalizers {finalizers}" if finalizers else "still there")

        _until(gone, f"{resource.kind} {name} to be deleted", deadline, "k8s_apply clean-up")

    def _wait(self, item: dict[str, Any], deadline: float) -> dict[str, Any]:
        """The object once ready (as the server has it then); at once for kinds with nothing to await."""
        if item["kind"] not in READY:
            return item
        words, check = READY[item["kind"]]
        meta = item["metadata"]
        where = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
        resource = self.dynamic.resources.get(api_version=item["apiVersion"], kind=item["kind"])

        def ready() -> dict[str, Any]:
            current = self.dynamic.get(resource, name=meta["name"], namespace=meta.get("namespace")).to_dict()
            check(self, current)
            return current

        return _until(ready, f"{item['kind']} {where} to be {words}", deadline, "k8s_apply")


def deletes_after(status: int, existed: bool) -> bool:
    """Whether the clean-up deletes an object outside the test's namespace that an apply answered with
    `status`: only one this apply created, never one that was there before the test's first apply to it."""
    return status == HTTPStatus.CREATED and not existed


def conflict_message(kind: str, where: str, body: str | None) -> str | None:
    """What a server-side apply without force that conflicts says: the object, the managers that own the
    fields and which fields. None for a 409 of another kind (its own error says it)."""
    try:
        causes = json.loads(body or "").get("details", {}).get("causes") or []
    except (ValueError, AttributeError):
        return None
    owned: dict[str, list[str]] = {}
    for cause in causes:
        if cause.get("reason") == "FieldManagerConflict":
            manager = cause.get("message", "").removeprefix("conflict with ")
            owned.setdefault(manager, []).append(cause.get("field", "?"))
    if not owned:
        return None
    managers = "; ".join(f"{manager} owns {', '.join(fields)}" for manager, fields in owned.items())
    return (
        f"k8s_apply: {kind} {where}: the manifest sets fields that other field managers own ({managers}); "
        "on a cluster not ours k8s_apply takes no field over (it applies without force): leave those fields "
        "out of the manifest, or apply objects that the test makes itself"
    )


def _until(check: Callable[[], T], what: str, deadline: float, doing: str) -> T:
    """Poll `check` until the deadline; a timeout (or a SingleK8sError from `check`) says what `doing` waited for."""
    try:
        return wait_for(check, what, max(deadline - time.monotonic(), 0.1), interval=0.25, fatal=(SingleK8sError,))
    except WaitTimeout as error:
        raise SingleK8sError(f"{doing}: {error}") from None


def _conditions(item: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in (item.get("status") or {}).get("conditions") or []}


def _condition(item: dict[str, Any], kind: str) -> None:
    found = _conditions(item).get(kind)
    if not found or found.get("status") != "True":
        raise RuntimeError(f"condition {kind} is {found or 'absent'}; status: {item.get('status')}")


def _established(applier: Applier, crd: dict[str, Any]) -> None:
    _condition(crd, "Established")


def _available(applier: Applier, workload: dict[str, Any]) -> None:
    status, wanted = workload.get("status") or {}, (workload.get("spec") or {}).get("replicas", 1)
    field = "availableReplicas" if workload["kind"] == "Deployment" else "readyReplicas"
    current = status.get("observedGeneration", 0) >= workload["metadata"].get("generation", 0)
    if not current or (status.get(field) or 0) < wanted:
        raise RuntimeError(f"{field} {status.get(field) or 0} of {wanted}; status: {status}")


def _complete(applier: Applier, job: dict[str, Any]) -> None:
    if _conditions(job).get("Failed", {}).get("status") == "True":
        raise SingleK8sError(f"k8s_apply: Job {job['metadata']['name']} failed: {job.get('status')}")
    _condition(job, "Complete")


def _pod_ready(applier: Applier, pod: dict[str, Any]) -> None:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Failed":
        raise SingleK8sError(f"k8s_apply: Pod {pod['metadata']['name']} failed: {pod.get('status')}")
    if phase != "Succeeded":
        _condition(pod, "Ready")


def _has_endpoints(applier: Applier, service: dict[str, Any]) -> None:
    spec = service.get("spec") or {}
    if spec.get("type") == "ExternalName" or not spec.get("selector"):
        return  # nothing of the cluster's own stands behind it
    meta = service["metadata"]
    slices = applier.dynamic.resources.get(api_version="discovery.k8s.io/v1", kind="EndpointSlice")
    found = applier.dynamic.get(
        slices, namespace=meta["namespace"], label_selector=f"kubernetes.io/service-name={meta['name']}"
    ).to_dict()
    ready = [
        address
        for endpoint_slice in found.get("items") or []
        for endpoint in endpoint_slice.get("endpoints") or []
        if (endpoint.get("conditions") or {}).get("ready")
        for address in endpoint.get("addresses") or []
    ]
    if not ready:
        raise RuntimeError("no ready endpoint yet")


READY: dict[str, tuple[str, Callable[[Applier, dict[str, Any]], None]]] = {  # kind -> (what, check)
    "CustomResourceDefinition": ("Established", _established),
    "Deployment": ("available", _available),
    "StatefulSet": ("ready", _available),
    "Job": ("complete", _complete),
    "Pod": ("Ready or Succeeded", _pod_ready),
    "Service": ("backed by a ready endpoint", _has_endpoints),
}
