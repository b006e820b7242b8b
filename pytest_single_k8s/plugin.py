"""pytest wiring: options, ini keys, the `k8s` marker and the fixtures. The work lives elsewhere.

Settings are listed once in settings.OPTIONS and spelled mechanically: CLI
`--k8s-version`, ini `k8s_version`, field `version`. Precedence: CLI > ini > default.
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
from .readiness import namespace_ready
from .settings import OPTIONS, Settings, resolve
from .sharing import SharedCluster
from .waiting import wait_for


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("single-k8s", "a throwaway single-node Kubernetes cluster (pytest-single-k8s)")
    for name, (flag, ini, help_text) in OPTIONS.items():
        repeatable = name == "extra_args"
        group.addoption(flag, dest=ini, default=None, action="append" if repeatable else "store",
                        help=f"{help_text} (ini: {ini})")
        parser.addini(ini, f"pytest-single-k8s: {help_text} (see {flag})", type="linelist" if repeatable else None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "k8s: the test uses the throwaway Kubernetes cluster of pytest-single-k8s")


def settings(config: pytest.Config) -> Settings:
    """The settings of this session: CLI > ini > default (see settings.py)."""
    cli = {name: config.getoption(ini) for name, (_, ini, _) in OPTIONS.items()}
    ini = {name: config.getini(ini) for name, (_, ini, _) in OPTIONS.items()}
    return resolve(cli, ini)


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
        with self._capture.global_and_fixture_disabled() if self._capture else contextlib.nullcontext():
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
    chosen = settings(pytestconfig)
    try:
        client = engine.connect()
    except DockerUnavailable as error:
        if chosen.require:
            raise
        pytest.skip(f"pytest-single-k8s: {error}")
    version = versions.resolve(chosen.version, versions.served_releases(cache_dir()))
    images = Images(client, Versions(kubernetes=version), _status(pytestconfig))
    images.ensure()
    return images


@pytest.fixture(scope="session")
def k8s_cluster(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory, k8s_images: Images
                ) -> Iterator[Cluster]:
    """A running single-node cluster for the whole session (or xdist run), deleted at its end."""
    status, chosen = _status(pytestconfig), settings(pytestconfig)
    client = k8s_images.client

    def create() -> Cluster:
        plan = plan_cluster(client, k8s_images, k8s_images.versions.kubernetes, chosen.api_port,
                            chosen.extra_args_by_component())
        cluster = Cluster(client, plan, status)
        cluster.create(k8s_images, chosen.wait_timeout)
        return cluster

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

    def create_for_all() -> dict:
        clusters.append(create())
        return clusters[0].state()

    def attach(state: dict) -> None:
        clusters.append(Cluster.attach(client, state, status))

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
