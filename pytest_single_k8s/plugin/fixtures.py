"""The fixtures: k8s_images, k8s_cluster (shared under xdist), k8s_client, k8s_namespace, k8s_apply, k8s_webhook,
and the marker's gate."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import docker
import kubernetes.client
import pytest

from ..build.images import Images
from ..cluster import external, namespaces, webhooks
from ..cluster.apply import Applier
from ..cluster.create import create_cluster
from ..cluster.external import ExternalCluster
from ..cluster.handle import Cluster
from ..cluster.webhooks import Webhook
from ..engine.connection import connect
from ..errors import DockerUnavailable
from .options import settings
from .reports import SESSION_CLUSTER, SESSION_READY, TEST_NAMESPACE
from .sharing import SharedCluster
from .terminal import status


@pytest.fixture(autouse=True)
def _k8s_marker(request: pytest.FixtureRequest) -> None:
    """A test marked `k8s` gets the cluster, whether or not it names a fixture."""
    if request.node.get_closest_marker("k8s") is not None:
        request.getfixturevalue("k8s_cluster")


@pytest.fixture(scope="session")
def k8s_images(request: pytest.FixtureRequest, pytestconfig: pytest.Config) -> Images:
    """The cluster's images, built if missing (cached under content-addressed tags).

    Where no Docker engine answers, every test that needs them is skipped with
    a reason that says how to get one; so is every test against a cluster of
    --k8s-kubeconfig that is not a kept one of ours (its pods cannot run them).
    """
    chosen = settings(pytestconfig)
    if chosen.kubeconfig is not None:
        cluster = request.getfixturevalue("k8s_cluster")
        if not isinstance(cluster, Cluster):
            pytest.skip(f"pytest-single-k8s: k8s_images: the pods of {cluster.server} cannot run this host's images")
        # The kept cluster's release; with --k8s-binaries auto, the images it was made from are the cached ones.
        wanted = dataclasses.replace(chosen.wanted(), version=cluster.plan.version)
        images = Images.chosen(cluster.docker, wanted, status(pytestconfig))
    else:
        images = Images.chosen(_engine(chosen.require), chosen.wanted(), status(pytestconfig))
    images.ensure()
    return images


def _engine(require: bool) -> docker.DockerClient:
    try:
        return connect()
    except DockerUnavailable as error:
        if require:
            raise
        pytest.skip(f"pytest-single-k8s: {error}")


@pytest.fixture(scope="session")
def k8s_cluster(
    request: pytest.FixtureRequest, pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster | ExternalCluster]:
    """A running single-node cluster for the whole session (or xdist run), deleted at its end
    unless kept; or the cluster of --k8s-kubeconfig."""
    progress, chosen = status(pytestconfig), settings(pytestconfig)
    cluster: Cluster | ExternalCluster
    if chosen.kubeconfig is not None:
        try:
            engine = connect()
        except DockerUnavailable:
            engine = None
        cluster = external.connect(chosen.kubeconfig, chosen.context, engine, progress)
        yield from _serving(pytestconfig, cluster)
        return
    images: Images = request.getfixturevalue("k8s_images")
    client = images.client

    def create() -> Cluster:
        return create_cluster(client, images, progress, keep=chosen.keep, **chosen.cluster_options())

    worker = getattr(pytestconfig, "workerinput", None)
    if worker is None:
        yield from _serving(pytestconfig, create())
        return
    shared = SharedCluster(tmp_path_factory.getbasetemp().parent, worker["testrunuid"])
    clusters: list[Cluster] = []

    def create_for_all() -> dict[str, Any]:
        clusters.append(create())
        return clusters[0].state()

    def attach(state: dict[str, Any]) -> None:
        clusters.append(Cluster.attach(client, state, progress, chosen.ready_timeout))

    shared.join(create_for_all, attach)
    try:
        yield from _serving(pytestconfig, clusters[0], close=False)
    finally:
        shared.leave(clusters[0].close)  # the last worker out closes it
        clusters[0].release()


def _serving(
    config: pytest.Config, cluster: Cluster | ExternalCluster, close: bool = True
) -> Iterator[Cluster | ExternalCluster]:
    """Yield the cluster with it recorded for the failure reports (reports.py); close it after."""
    config.stash[SESSION_CLUSTER] = cluster
    config.stash[SESSION_READY] = time.time()
    try:
        yield cluster
    finally:
        del config.stash[SESSION_CLUSTER]
        del config.stash[SESSION_READY]
        if close:
            cluster.close()


@pytest.fixture
def k8s_client(k8s_cluster: Cluster | ExternalCluster) -> kubernetes.client.ApiClient:
    """A `kubernetes` ApiClient with admin rights on the session's cluster."""
    return k8s_cluster.api_client


@pytest.fixture
def k8s_namespace(request: pytest.FixtureRequest, k8s_cluster: Cluster | ExternalCluster) -> Iterator[str]:
    """A fresh namespace for one test, ready for pods, deleted afterwards."""
    name = namespaces.unique_name(request.node.name)
    try:
        namespaces.create(k8s_cluster.api_client, name)
        request.node.stash[TEST_NAMESPACE] = name
        yield name
    finally:
        namespaces.delete(k8s_cluster.api_client, name)


@pytest.fixture
def k8s_apply(
    k8s_cluster: Cluster | ExternalCluster, k8s_namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Applier]:
    """`k8s_apply(manifest, *, namespace=None, wait=True, timeout=120)`: server-side apply a path, YAML
    string, dict or list of dicts (namespaced objects default to the test's namespace); returns the
    applied objects as dicts. With `wait`, waits until CRDs are Established, Deployments and
    StatefulSets available, Jobs complete, Pods Ready or Succeeded, Services backed by endpoints.
    What it created outside the test's namespace (CRDs, ClusterRoles, ...) is deleted after the test; what was
    there before, never. On a cluster not ours (--k8s-kubeconfig), a field another manager owns stays theirs:
    a manifest that sets it differently is an error naming the object and the managers."""
    applier = Applier(
        k8s_cluster.api_client,
        k8s_namespace,
        tmp_path_factory.getbasetemp() / "k8s-discovery.json",
        force=isinstance(k8s_cluster, Cluster),  # a throwaway cluster of ours: the manifest is the truth
    )
    try:
        yield applier
    finally:
        applier.cleanup()


@pytest.fixture
def k8s_webhook(k8s_cluster: Cluster | ExternalCluster) -> Iterator[Webhook]:
    """What an admission webhook served by this test needs: `.host` (a name the apiserver resolves to
    this host), `.bind_address` (where to listen), `.cert_file`/`.key_file` (a serving certificate for
    the host), `.ca_bundle` (for a configuration's caBundle), `.url(port, path)`, `.server_context()`,
    `.serve(handler)` (a context manager: an http.server handler served over TLS in a thread; its port).
    Afterwards, every webhook configuration whose URL names the host is removed, however it was made."""
    if not isinstance(k8s_cluster, Cluster):
        pytest.skip(f"pytest-single-k8s: k8s_webhook: the apiserver of {k8s_cluster.server} cannot reach this host")
    webhook = webhooks.for_cluster(k8s_cluster)
    problem = webhooks.unreachable(k8s_cluster, webhook)
    if problem is not None:
        pytest.skip(f"pytest-single-k8s: k8s_webhook: {problem}")
    try:
        yield webhook
    finally:
        webhooks.remove_pointing_here(k8s_cluster.api_client)
