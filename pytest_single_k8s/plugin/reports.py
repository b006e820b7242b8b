"""Test reports and the session's cluster: diagnostics in a failed test's report (and its full
logs under --k8s-logs-dir), and a skip for a test that needs our containers under --k8s-kubeconfig."""

from __future__ import annotations

import re
import time
from collections.abc import Generator
from typing import Any

import pytest

from ..cluster import diagnostics
from ..cluster.external import ExternalCluster
from ..cluster.handle import Cluster
from ..errors import NotOurCluster
from .options import settings

SESSION_CLUSTER = pytest.StashKey[Cluster | ExternalCluster]()
TEST_NAMESPACE = pytest.StashKey[str]()  # set by k8s_namespace
TEST_STARTED = pytest.StashKey[float]()  # time.time() at the start of the test's setup
SESSION_READY = pytest.StashKey[float]()  # time.time() when the cluster was handed to the tests


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[TEST_STARTED] = time.time()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    try:
        return (yield)
    except NotOurCluster as error:
        pytest.skip(f"pytest-single-k8s: {error}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report: pytest.TestReport = yield
    cluster = item.config.stash.get(SESSION_CLUSTER, None)
    if report.failed and cluster is not None and "k8s_cluster" in getattr(item, "fixturenames", ()):
        _diagnose(item, report, cluster)
    return report


def _diagnose(item: pytest.Item, report: pytest.TestReport, cluster: Cluster | ExternalCluster) -> None:
    budget = diagnostics.Budget()
    namespace = item.stash.get(TEST_NAMESPACE, None)
    engine, cluster_id = (cluster.docker, cluster.plan.cluster_id) if isinstance(cluster, Cluster) else (None, None)
    if namespace is not None:
        for title, text in diagnostics.namespace_sections(cluster.api_client, namespace, budget):
            report.sections.append((f"k8s {title}", text))
    if engine is not None and cluster_id is not None:
        # A cluster started in this test's setup logged its start-up, which is not the test's doing.
        since = max(item.stash.get(TEST_STARTED, 0.0), item.config.stash.get(SESSION_READY, 0.0))
        errors = diagnostics.component_errors(engine, cluster_id, since, budget)
        if errors:
            report.sections.append(("k8s components that logged errors during the test", errors))
    logs_dir = settings(item.config).logs_dir
    if logs_dir is not None:
        target = logs_dir / re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid).strip("_") / report.when
        written = diagnostics.export(target, engine, cluster_id, cluster.api_client, namespace, budget)
        report.sections.append(("k8s logs", f"{len(written)} files written under {target}"))
