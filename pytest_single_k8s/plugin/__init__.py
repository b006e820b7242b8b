"""pytest wiring only: options, ini keys, the `k8s` marker and the fixtures (the `pytest11` entry point).

The work lives in the layers below (build, engine, cluster); nothing here knows
how a cluster is made. Settings are listed once in ..settings.OPTIONS and spelled
mechanically: CLI `--k8s-version`, ini `k8s_version`, field `version`.
Precedence: CLI > ini > default.
"""

from .fixtures import _k8s_marker, k8s_apply, k8s_client, k8s_cluster, k8s_images, k8s_namespace, k8s_webhook
from .options import pytest_addoption, pytest_configure, settings
from .reports import pytest_runtest_call, pytest_runtest_makereport, pytest_runtest_setup

# The async client fixtures: a plugin module of their own, as one of them exists only with pytest-asyncio.
pytest_plugins = ["pytest_single_k8s.plugin.asynchronous"]

__all__ = [
    "_k8s_marker",
    "k8s_apply",
    "k8s_client",
    "k8s_cluster",
    "k8s_images",
    "k8s_namespace",
    "k8s_webhook",
    "pytest_addoption",
    "pytest_configure",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "settings",
]
