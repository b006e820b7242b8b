"""Where the apiserver reaches a webhook server of this process is tried, not assumed: k8s_webhook
skips with the reason where nothing reaches this process."""

import dataclasses

from pytest_single_k8s.cluster import webhooks


def test_the_webhook_address_is_tried_from_the_apiserver_s_network(k8s_cluster):
    webhook = webhooks.for_cluster(k8s_cluster)
    assert webhooks.unreachable(k8s_cluster, webhook) is None
    # Listening on this host's loopback only: the apiserver, in a network namespace of its own, cannot reach it.
    problem = webhooks.unreachable(k8s_cluster, dataclasses.replace(webhook, bind_address="127.0.0.1"))
    assert problem is not None
    assert "the apiserver does not reach this process at 127.0.0.1" in problem, problem
