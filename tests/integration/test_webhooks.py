"""A webhook configuration a failing test leaves behind, pointing at a server that is gone,
does not break the next test: k8s_webhook removes it."""

import pytest

from .sessions import inner

pytestmark = pytest.mark.own_cluster

TESTS = """
import pytest
from kubernetes import client

@pytest.fixture
def dead_end(k8s_cluster):
    from pytest_single_k8s.cluster import webhooks
    return webhooks.for_cluster(k8s_cluster)

@pytest.mark.k8s
def test_1_registers_a_webhook_then_fails(k8s_client, WEBHOOK):
    k8s_webhook = WEBHOOK
    # Straight through the API (k8s_apply would delete what it made): made however, it must go.
    client.AdmissionregistrationV1Api(k8s_client).create_validating_webhook_configuration({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "dead"},
        "webhooks": [{
            "name": "everything.example.pytest-single-k8s.io",
            # No server listens there, and every ConfigMap anywhere must pass it.
            "clientConfig": {"url": k8s_webhook.url(1, "/"), "caBundle": k8s_webhook.ca_bundle},
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                       "resources": ["configmaps"]}],
            "sideEffects": "None", "admissionReviewVersions": ["v1"], "failurePolicy": "Fail",
            "timeoutSeconds": 2,
        }],
    })
    assert False, "fails on purpose, its webhook left behind"

@pytest.mark.k8s
def test_2_creates_a_config_map(k8s_client, k8s_namespace):
    client.CoreV1Api(k8s_client).create_namespaced_config_map(
        k8s_namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="after")))
    assert not client.AdmissionregistrationV1Api(k8s_client).list_validating_webhook_configuration().items
"""


def test_a_dead_webhook_left_by_a_failing_test_does_not_break_the_next(pytester, k8s_images, clean_host):
    pytester.makepyfile(TESTS.replace("WEBHOOK", "k8s_webhook"))
    result = inner(pytester, "--k8s-version", k8s_images.versions.kubernetes)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: fails on purpose, its webhook left behind*"])


def test_control_without_k8s_webhook_the_dead_webhook_blocks_the_next_test(pytester, k8s_images, clean_host):
    """The same webhook, registered without k8s_webhook (nothing removes it): the next test cannot even get
    its namespace ready, since the controller-manager's ConfigMap there is refused."""
    pytester.makepyfile(TESTS.replace("WEBHOOK", "dead_end"))
    result = inner(pytester, "--k8s-version", k8s_images.versions.kubernetes)
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_2_creates_a_config_map*"])
