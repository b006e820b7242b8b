"""pytest wiring: options, ini keys, the `k8s` marker and the fixtures. The work lives elsewhere.

Every setting is spelled four ways, mechanically: CLI `--k8s-version`, ini
`k8s_version`, and the same name in Python. Precedence: CLI > ini > default.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import sys
from collections.abc import Iterator

import kubernetes.client
import pytest

from . import engine, versions
from .cluster import Cluster, plan_cluster
from .errors import DockerUnavailable
from .images import Images, Versions
from .paths import cache_dir
from .progress import Status
from .waiting import wait_for

DEFAULT_VERSION = "latest"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("single-k8s", "a throwaway single-node Kubernetes cluster (pytest-single-k8s)")
    group.addoption(
        "--k8s-version", dest="k8s_version", default=None,
        help="Kubernetes version: 'latest', a minor such as 1.36, or a release such as v1.37.2 "
        "(ini: k8s_version; default: latest served by the Go module proxy)",
    )
    parser.addini("k8s_version", "Kubernetes version for pytest-single-k8s (see --k8s-version)", default=DEFAULT_VERSION)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "k8s: the test uses the throwaway Kubernetes cluster of pytest-single-k8s")


def requested_version(config: pytest.Config) -> str:
    cli = config.getoption("k8s_version")
    return cli if cli is not None else config.getini("k8s_version")


class _TerminalStream:
    """A stream that writes past pytest's output capture, so long steps show progress."""

    def __init__(self, config: pytest.Config) -> None:
        self._capture = config.pluginmanager.getplugin("capturemanager")

    def write(self, text: str) -> None:
        with self._capture.global_and_fixture_disabled() if self._capture else contextlib.nullcontext():
            sys.stderr.write(text)
            sys.stderr.flush()

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def _status(config: pytest.Config) -> Status:
    return Status(_TerminalStream(config))


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
    try:
        client = engine.connect()
    except DockerUnavailable as error:
        pytest.skip(f"pytest-single-k8s: {error}")
    version = versions.resolve(requested_version(pytestconfig), versions.served_releases(cache_dir()))
    images = Images(client, Versions(kubernetes=version), _status(pytestconfig))
    images.ensure()
    return images


@pytest.fixture(scope="session")
def k8s_cluster(pytestconfig: pytest.Config, k8s_images: Images) -> Iterator[Cluster]:
    """A running single-node cluster for the whole session, deleted at its end."""
    status = _status(pytestconfig)
    plan = plan_cluster(k8s_images.client, k8s_images, k8s_images.versions.kubernetes)
    cluster = Cluster(k8s_images.client, plan, status)
    cluster.create(k8s_images)
    try:
        yield cluster
    finally:
        cluster.delete()


@pytest.fixture
def k8s_client(k8s_cluster: Cluster) -> kubernetes.client.ApiClient:
    """A `kubernetes` ApiClient with admin rights on the session's cluster."""
    return k8s_cluster.api_client


@pytest.fixture
def k8s_namespace(request: pytest.FixtureRequest, k8s_cluster: Cluster) -> Iterator[str]:
    """A fresh namespace for one test (its default ServiceAccount ready), deleted afterwards."""
    core = kubernetes.client.CoreV1Api(k8s_cluster.api_client)
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].rstrip("-")
    name = f"{slug or 'test'}-{secrets.token_hex(3)}"
    core.create_namespace(kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(name=name)))
    wait_for(lambda: core.read_namespaced_service_account("default", name), f"ServiceAccount {name}/default", 30)
    yield name
    core.delete_namespace(name)
