"""The fixtures: k8s_images, k8s_cluster (shared under xdist), k8s_client, k8s_namespace, and the marker's gate."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import kubernetes.client
import pytest

from ..build import versions
from ..build.images import Images
from ..build.recipes import Versions
from ..cluster.create import create_cluster
from ..cluster.handle import Cluster
from ..cluster.readiness import namespace_ready
from ..common.paths import cache_dir
from ..common.waiting import wait_for
from ..engine.connection import connect
from ..errors import DockerUnavailable
from .options import settings
from .sharing import SharedCluster
from .terminal import status


@pytest.fixture(autouse=True)
def _k8s_marker(request: pytest.FixtureRequest) -> None:
    """A test marked `k8s` gets the cluster, whether or not it names a fixture."""
    if request.node.get_closest_marker("k8s") is not None:
        request.getfixturevalue("k8s_cluster")


@pytest.fixture(scope="session")
def k8s_images(pytestconfig: pytest.Config) -> Images:
    """The cluster's images, built if missing (cached under content-addressed tags).

    Where no Docker engine answers, every test that needs them is skipped with
    a reason that says how to get one.
    """
    chosen = settings(pytestconfig)
    try:
        client = connect()
    except DockerUnavailable as error:
        if chosen.require:
            raise
        pytest.skip(f"pytest-single-k8s: {error}")
    version = versions.resolve(chosen.version, versions.served_releases(cache_dir()))
    images = Images(client, Versions(kubernetes=version), status(pytestconfig))
    images.ensure()
    return images


@pytest.fixture(scope="session")
def k8s_cluster(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory, k8s_images: Images
) -> Iterator[Cluster]:
    """A running single-node cluster for the whole session (or xdist run), deleted at its end."""
    progress, chosen = status(pytestconfig), settings(pytestconfig)
    client = k8s_images.client

    def create() -> Cluster:
        return create_cluster(
            client,
            k8s_images,
            progress,
            api_port=chosen.api_port,
            extra_args=chosen.extra_args_by_component(),
            wait_timeout=chosen.wait_timeout,
        )

    worker = getattr(pytestconfig, "workerinput", None)
    if worker is None:
        cluster = create()
        try:
            yield cluster
        finally:
            cluster.delete()
        return
    shared = SharedCluster(tmp_path_factory.getbasetemp().parent, worker["testrunuid"])
    clusters: list[Cluster] = []

    def create_for_all() -> dict[str, Any]:
        clusters.append(create())
        return clusters[0].state()

    def attach(state: dict[str, Any]) -> None:
        clusters.append(Cluster.attach(client, state, progress))

    shared.join(create_for_all, attach)
    try:
        yield clusters[0]
    finally:
        shared.leave(clusters[0].delete)


@pytest.fixture
def k8s_client(k8s_cluster: Cluster) -> kubernetes.client.ApiClient:
    """A `kubernetes` ApiClient with admin rights on the session's cluster."""
    return k8s_cluster.api_client


@pytest.fixture
def k8s_namespace(request: pytest.FixtureRequest, k8s_cluster: Cluster) -> Iterator[str]:
    """A fresh namespace for one test, ready for pods, deleted afterwards."""
    core = kubernetes.client.CoreV1Api(k8s_cluster.api_client)
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].rstrip("-")
    name = f"{slug or 'test'}-{secrets.token_hex(3)}"
    core.create_namespace(kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(name=name)))
    try:
        wait_for(lambda: namespace_ready(k8s_cluster.api_client, name), f"namespace {name} to take pods", 30)
        yield name
    finally:
        try:
            core.delete_namespace(name)
        except kubernetes.client.ApiException as error:
            if error.status != 404:  # the test may have deleted it itself
                raise
