"""kopf operators tested against the session's cluster, to copy: the CRD applied with k8s_apply, the
operator run inside the test with kopf.testing.KopfRunner, its work and its admission webhook checked.

kopf logs in from $KUBECONFIG; an admission webhook learns from k8s_webhook where to listen, which
name the apiserver calls and the certificate to serve (here through the environment)."""

import json
from pathlib import Path

import pytest
from kubernetes import client

from pytest_single_k8s.common.waiting import wait_for

kopf_testing = pytest.importorskip("kopf.testing", reason="the kopf examples need kopf (pip install kopf)")

HERE = Path(__file__).parent
GROUP, VERSION, PLURAL = "example.pytest-single-k8s.io", "v1", "widgets"

WIDGET_CRD = HERE / "widget-crd.yaml"  # k8s_apply takes a path, a YAML string, a dict or a list


def widget(name, size):
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Widget", "metadata": {"name": name}, "spec": {"size": size}}


def operator(namespace, module):
    """kopf running `module` in this test, for this namespace only, with no peering."""
    return kopf_testing.KopfRunner(["run", "--standalone", "--namespace", namespace, str(HERE / module)], timeout=60)


@pytest.mark.k8s
def test_the_operator_gives_each_widget_a_config_map(k8s_apply, k8s_cluster, k8s_client, k8s_namespace, monkeypatch):
    k8s_apply(WIDGET_CRD)
    monkeypatch.setenv("KUBECONFIG", str(k8s_cluster.kubeconfig))
    core, custom = client.CoreV1Api(k8s_client), client.CustomObjectsApi(k8s_client)

    def status():
        found = custom.get_namespaced_custom_object(GROUP, VERSION, k8s_namespace, PLURAL, "w")
        assert isinstance(found, dict)
        assert found.get("status", {}).get("make_config_map") == {"configMap": "w-config"}, found.get("status")

    with operator(k8s_namespace, "widget_operator.py") as runner:
        k8s_apply(widget("w", 3))
        made = wait_for(lambda: core.read_namespaced_config_map("w-config", k8s_namespace), "the ConfigMap", 30)
        wait_for(status, "the Widget's status", 30)
    assert runner.exception is None
    assert runner.exit_code == 0, runner.output
    assert made.data == {"size": "3"}
    assert made.metadata is not None
    assert made.metadata.owner_references is not None
    assert [(owner.kind, owner.name) for owner in made.metadata.owner_references] == [("Widget", "w")]


@pytest.mark.k8s
def test_a_kopf_admission_webhook_refuses_a_widget_too_big(
    k8s_apply, k8s_cluster, k8s_client, k8s_namespace, k8s_webhook, monkeypatch
):
    k8s_apply(WIDGET_CRD)
    monkeypatch.setenv("KUBECONFIG", str(k8s_cluster.kubeconfig))
    monkeypatch.setenv("WIDGET_WEBHOOK_ADDRESS", k8s_webhook.bind_address)
    monkeypatch.setenv("WIDGET_WEBHOOK_HOST", k8s_webhook.host)
    monkeypatch.setenv("WIDGET_WEBHOOK_CERT", k8s_webhook.cert_file)
    monkeypatch.setenv("WIDGET_WEBHOOK_KEY", k8s_webhook.key_file)
    monkeypatch.setenv("WIDGET_WEBHOOK_CA_BUNDLE", k8s_webhook.ca_bundle)
    custom = client.CustomObjectsApi(k8s_client)

    def refused():
        # kopf registers its webhook a moment after it starts: until then a create passes.
        try:
            custom.create_namespaced_custom_object(GROUP, VERSION, k8s_namespace, PLURAL, widget("big", 11))
        except client.ApiException as error:
            return error
        custom.delete_namespaced_custom_object(GROUP, VERSION, k8s_namespace, PLURAL, "big")
        raise AssertionError("the webhook did not refuse yet")

    with operator(k8s_namespace, "widget_admission.py") as runner:
        error = wait_for(refused, "kopf's webhook to refuse a Widget of size 11", 30)
        (small,) = k8s_apply(widget("small", 10))
    assert runner.exception is None
    assert runner.exit_code == 0, runner.output
    assert error.status == 422
    assert "a Widget's size is at most 10" in json.loads(error.body)["message"]
    assert small["spec"] == {"size": 10}
