"""pytest wiring: options, ini keys, the `k8s` marker and the fixtures. The work lives elsewhere.

Every setting is spelled four ways, mechanically: CLI `--k8s-version`, ini
`k8s_version`, and the same name in Python. Precedence: CLI > ini > default.
"""

from __future__ import annotations

import contextlib
import sys

import pytest

from . import engine, versions
from .errors import DockerUnavailable
from .images import Images, Versions
from .paths import cache_dir
from .progress import Status

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


@pytest.fixture(scope="session")
def k8s_images(pytestconfig: pytest.Config) -> Images:
    """The cluster's images, built if missing (cached under content-addressed tags)."""
    try:
        client = engine.connect()
    except DockerUnavailable as error:
        pytest.skip(str(error))
    version = versions.resolve(requested_version(pytestconfig), versions.served_releases(cache_dir()))
    images = Images(client, Versions(kubernetes=version), Status(_TerminalStream(pytestconfig)))
    images.ensure()
    return images
