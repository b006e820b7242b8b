"""k8s_apply on the session's cluster: a CRD and its objects in one manifest, waits, updates, clean-up;
and through a kubeconfig as a cluster not ours: nothing taken over, nothing deleted that was there before."""

import secrets
from pathlib import Path

import pytest
from kubernetes import client

from pytest_single_k8s.cluster.apply import Applier
from pytest_single_k8s.errors import SingleK8sError

from .sessions import inner

# The kopf example's CRD, and one of its objects in the same manifest.
CRD_AND_OBJECT = (
    (Path(__file__).parents[1] / "example" / "widget-crd.yaml").read_text()
    + """---
apiVersion: example.pytest-single-k8s.io/v1
kind: Widget
metadata: {name: first}
spec: {size: 3}
"""
)


def web(image, replicas=1):
    labels = {"app": "web"}
    container = {"name": "web", "image": image, "imagePullPolicy": "IfNotPresent"}
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": labels, "ports": [{"port": 80}]},
        },
    ]


@pytest.mark.k8s
def test_a_crd_and_its_object_in_one_manifest_then_the_crd_goes_after_the_test(k8s_cluster, k8s_namespace, tmp_path):
    applier = Applier(k8s_cluster.api_client, k8s_namespace, tmp_path / "discovery.json")
    crd, widget = applier(CRD_AND_OBJECT)
    assert {c["type"]: c["status"] for c in crd["status"]["conditions"]}["Established"] == "True"
    assert widget["metadata"]["namespace"] == k8s_namespace
    assert widget["spec"] == {"size": 3}
    # Applying again updates (server-side apply), and creates nothing new to clean up.
    (_, again) = applier(CRD_AND_OBJECT.replace("size: 3", "size: 5"))
    assert again["spec"] == {"size": 5}
    assert [name for _, name, _ in applier.created] == ["widgets.example.pytest-single-k8s.io"]

    applier.cleanup()  # returns once it is gone: the next test may apply the same CRD
    with pytest.raises(client.ApiException) as missing:
        client.ApiextensionsV1Api(k8s_cluster.api_client).read_custom_resource_definition(
            "widgets.example.pytest-single-k8s.io"
        )
    assert missing.value.status == 404


@pytest.mark.k8s
def test_deployments_wait_until_available_and_services_until_backed(k8s_apply, k8s_client, k8s_namespace, k8s_images):
    deployment, service = k8s_apply(web(k8s_images.ref("nginx"), replicas=2))
    assert deployment["metadata"]["namespace"] == service["metadata"]["namespace"] == k8s_namespace
    # It returned once ready: no waiting needed here.
    status = client.AppsV1Api(k8s_client).read_namespaced_deployment_status("web", k8s_namespace).status
    assert status is not None
    assert status.available_replicas == 2
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "once"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": k8s_images.ref("debian"), "command": ["true"]}],
                }
            }
        },
    }
    [done] = k8s_apply(job)
    assert done["kind"] == "Job"
    finished = client.BatchV1Api(k8s_client).read_namespaced_job_status("once", k8s_namespace).status
    assert finished is not None
    assert finished.succeeded == 1


@pytest.mark.k8s
def test_a_timeout_names_the_object_and_its_last_status(k8s_apply, k8s_namespace):
    never = web("pytest-single-k8s/not-built:here")[0]
    never["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Never"
    with pytest.raises(
        SingleK8sError, match=rf"Deployment {k8s_namespace}/web to be available.*availableReplicas 0 of 1"
    ):
        k8s_apply(never, timeout=5)


# Run in an inner session through the session cluster's kubeconfig, with no engine in reach: a cluster not ours.
NOT_OURS = """
import os

import pytest

from pytest_single_k8s.errors import SingleK8sError

SHARED = os.environ["SHARED_NAMESPACE"]


def role(name):
    rules = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
            "rules": rules}


def config_map(name, data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": SHARED}, "data": data}


@pytest.mark.k8s
def test_a_field_another_manager_owns_is_an_error_naming_both(k8s_apply):
    owned = rf'ConfigMap {SHARED}/settings: .*"someone-else" using v1 owns .data.color'
    with pytest.raises(SingleK8sError, match=owned):
        k8s_apply(config_map("settings", {"color": "blue"}))


@pytest.mark.k8s
def test_what_was_there_is_applied_and_stays_what_is_new_goes(k8s_apply):
    k8s_apply([role(os.environ["SHARED_ROLE"]), role(os.environ["NEW_ROLE"]), config_map("made", {"a": "1"})])
"""
RULES = [client.V1PolicyRule(api_groups=[""], resources=["configmaps"], verbs=["get"])]


def settings_by_someone_else(core, namespace):
    config_map = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings"), data={"color": "red"})
    core.create_namespaced_config_map(namespace, config_map, field_manager="someone-else")


@pytest.mark.k8s
def test_on_a_cluster_not_ours_nothing_is_taken_over_and_what_was_there_stays(
    pytester, k8s_cluster, k8s_client, k8s_namespace, monkeypatch
):
    core, rbac = client.CoreV1Api(k8s_client), client.RbacAuthorizationV1Api(k8s_client)
    shared_role, new_role = (f"psk8s-{what}-{secrets.token_hex(3)}" for what in ("shared", "new"))
    settings_by_someone_else(core, k8s_namespace)
    role = client.V1ClusterRole(metadata=client.V1ObjectMeta(name=shared_role), rules=RULES)
    rbac.create_cluster_role(role, field_manager="someone-else")
    try:
        pytester.makepyfile(NOT_OURS)
        for name, value in (("SHARED_NAMESPACE", k8s_namespace), ("SHARED_ROLE", shared_role), ("NEW_ROLE", new_role)):
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")  # the kubeconfig cannot be told to be ours
        result = inner(pytester, "-v", "--k8s-kubeconfig", str(k8s_cluster.kubeconfig))
        result.assert_outcomes(passed=2)

        settings = core.read_namespaced_config_map("settings", k8s_namespace)
        assert settings.data == {"color": "red"}
        assert settings.metadata is not None
        assert "pytest-single-k8s" not in {entry.manager for entry in settings.metadata.managed_fields or []}
        assert rbac.read_cluster_role(shared_role).rules  # applied as it was, and left
        for read in (
            lambda: rbac.read_cluster_role(new_role),
            lambda: core.read_namespaced_config_map("made", k8s_namespace),
        ):
            with pytest.raises(client.ApiException) as gone:
                read()
            assert gone.value.status == 404  # made by the test: deleted after it
    finally:
        for name in (shared_role, new_role):
            try:
                rbac.delete_cluster_role(name)
            except client.ApiException as error:
                if error.status != 404:
                    raise


@pytest.mark.k8s
def test_control_on_our_cluster_the_manifest_takes_over_a_field_another_manager_owns(
    k8s_apply, k8s_client, k8s_namespace
):
    core = client.CoreV1Api(k8s_client)
    settings_by_someone_else(core, k8s_namespace)
    k8s_apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"color": "blue"}})
    assert core.read_namespaced_config_map("settings", k8s_namespace).data == {"color": "blue"}
