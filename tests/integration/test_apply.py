"""k8s_apply on the session's cluster: a CRD and its objects in one manifest, waits, updates, clean-up."""

from pathlib import Path

import pytest
from kubernetes import client

from pytest_single_k8s.cluster.apply import Applier
from pytest_single_k8s.errors import SingleK8sError

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
