"""An admission webhook served by the test process, to copy: the standard library alone
(http.server + ssl), registered through k8s_apply with what k8s_webhook gives."""

import json
from http.server import BaseHTTPRequestHandler

import pytest
from kubernetes import client

from pytest_single_k8s.common.waiting import wait_for

REFUSAL = "ConfigMaps labelled forbidden=true are refused by the test's webhook"


class ValidateConfigMaps(BaseHTTPRequestHandler):
    """Answers an AdmissionReview: refuse a ConfigMap labelled forbidden=true."""

    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        request = review["request"]
        labels = request["object"]["metadata"].get("labels") or {}
        response = {"uid": request["uid"], "allowed": labels.get("forbidden") != "true"}
        if not response["allowed"]:
            response["status"] = {"code": 403, "message": REFUSAL}
        body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_port(k8s_webhook):
    """The webhook server, over TLS, where the apiserver reaches this host: its port."""
    with k8s_webhook.serve(ValidateConfigMaps) as port:
        yield port


def configuration(k8s_webhook, port, namespace):
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": f"refuse-forbidden-{namespace}"},
        "webhooks": [
            {
                "name": "configmaps.example.pytest-single-k8s.io",
                "clientConfig": {"url": k8s_webhook.url(port, "/validate"), "caBundle": k8s_webhook.ca_bundle},
                "rules": [
                    {"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}
                ],
                # Only this test's namespace: the cluster's own ConfigMaps never wait for the test.
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "failurePolicy": "Fail",
                "timeoutSeconds": 5,
            }
        ],
    }


def config_map(name, labels=None):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels))


@pytest.mark.k8s
def test_a_webhook_in_the_test_process_refuses_a_labelled_config_map(
    k8s_apply, k8s_client, k8s_namespace, k8s_webhook, webhook_port
):
    k8s_apply(configuration(k8s_webhook, webhook_port, k8s_namespace))
    core = client.CoreV1Api(k8s_client)

    def refused():
        # The apiserver takes up a new configuration within a moment: until then a create passes.
        try:
            core.create_namespaced_config_map(k8s_namespace, config_map("probe", {"forbidden": "true"}))
        except client.ApiException as error:
            return error
        core.delete_namespaced_config_map("probe", k8s_namespace)
        raise AssertionError("the webhook did not refuse yet")

    error = wait_for(refused, "the webhook to refuse a labelled ConfigMap", 30)
    assert error.status == 403
    assert REFUSAL in json.loads(error.body)["message"]
    core.create_namespaced_config_map(k8s_namespace, config_map("plain"))  # unlabelled: allowed
