"""A test's namespace: a unique name, created and ready for pods, deleted after (k8s_namespace, bench)."""

from __future__ import annotations

import re
import secrets

import kubernetes.client

from ..common.waiting import wait_for
from .readiness import namespace_ready

READY_TIMEOUT = 30
REQUEST_TIMEOUT = 30  # seconds for a create or delete: ample for admission webhooks; a hung apiserver fails the test
POLL = 0.05  # the controller-manager makes what a namespace waits for within about 0.1 s


def unique_name(test_name: str) -> str:
    """A DNS label from the test's name, with a random suffix."""
    slug = re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")[:40].rstrip("-")
    return f"{slug or 'test'}-{secrets.token_hex(3)}"


def create(api_client: kubernetes.client.ApiClient, name: str) -> None:
    """Create the namespace and return once pods can start in it."""
    # A plain body: model classes can be imported anew (pytester forgets modules), a dict is always valid.
    kubernetes.client.CoreV1Api(api_client).create_namespace(
        {"metadata": {"name": name}},  # type: ignore[arg-type]
        _request_timeout=REQUEST_TIMEOUT,
    )
    wait_for(lambda: namespace_ready(api_client, name), f"namespace {name} to take pods", READY_TIMEOUT, POLL)


def delete(api_client: kubernetes.client.ApiClient, name: str) -> None:
    """Ask for its deletion (which goes on in the background); one already gone is fine."""
    try:
        kubernetes.client.CoreV1Api(api_client).delete_namespace(name, _request_timeout=REQUEST_TIMEOUT)
    except kubernetes.client.ApiException as error:
        if error.status != 404:  # the test may have deleted it itself
            raise
