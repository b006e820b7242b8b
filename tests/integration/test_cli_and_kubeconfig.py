"""The command line round trip (up, status, kubectl, kubeconfig, logs, down) and sessions run
through a kubeconfig: of our kept cluster (everything works) and of a cluster not ours."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_single_k8s.cluster.names import COMPONENTS, NETWORK

from .sessions import EXAMPLE, EXAMPLE_TESTS, inner

pytestmark = pytest.mark.own_cluster

HOST_CLIENT = """
import kubernetes
kubernetes.config.load_kube_config()
for node in kubernetes.client.CoreV1Api().list_node().items:
    print(node.metadata.name)
"""

NOT_OURS = """
import pytest
from kubernetes import client

@pytest.mark.k8s
def test_the_api_and_a_namespace_work(k8s_client, k8s_namespace):
    client.CoreV1Api(k8s_client).create_namespaced_config_map(
        k8s_namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="seen")))
    assert client.CoreV1Api(k8s_client).read_namespaced_config_map("seen", k8s_namespace).metadata.name == "seen"

@pytest.mark.k8s
def test_stopping_a_component_skips(k8s_cluster):
    k8s_cluster.stop("kube-scheduler")

def test_images_skip(k8s_images):
    pass
"""


def cli(*args, check=True, stdin=""):
    done = subprocess.run(
        [sys.executable, "-m", "pytest_single_k8s", *args], input=stdin, capture_output=True, text=True, timeout=900
    )
    assert not check or done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def test_up_status_kubectl_kubeconfig_logs_and_down_leave_nothing(pytester, k8s_images, clean_host, tmp_path):
    version = k8s_images.versions.kubernetes
    up = cli("up", "--k8s-version", version)
    try:
        assert up.stdout.startswith("export KUBECONFIG=")
        kubeconfig = up.stdout.strip().removeprefix("export KUBECONFIG=")
        assert cli("kubeconfig").stdout.strip() == kubeconfig

        status = cli("status").stdout
        assert "(kept)" in status
        assert version in status
        for component in (NETWORK, *COMPONENTS, "reaper"):
            assert f"  {component} " in status
            assert "running" in status.split(f"  {component} ")[1].split("\n")[0]

        assert cli("kubectl", "get", "nodes", "-o", "name").stdout.strip() == "node/pytest-single-k8s"
        missing = cli("kubectl", "get", "pod", "no-such-pod", check=False)
        assert missing.returncode == 1
        assert "NotFound" in missing.stderr
        # stdin goes to kubectl
        manifest = '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "piped", "namespace": "default"}}'
        assert cli("kubectl", "apply", "-f", "-", stdin=manifest).stdout.strip() == "configmap/piped created"
        assert cli("kubectl", "get", "configmap", "piped", "-o", "name").stdout.strip() == "configmap/piped"

        # The host's own Python client, pointed at the cluster by the printed line alone (in a process of its
        # own: pytester forgets modules a test imports, and the client's lazily loaded models must not change).
        listing = subprocess.run(
            [sys.executable, "-c", HOST_CLIENT], env={**os.environ, "KUBECONFIG": kubeconfig},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert listing.stdout.split() == ["pytest-single-k8s"], listing.stderr

        assert "Serving securely on" in cli("logs", "kube-scheduler").stdout
        written = cli("logs", "--dir", str(tmp_path / "logs")).stdout.split()
        assert {Path(path).name for path in written} >= {f"{name}.log" for name in COMPONENTS}
        assert (tmp_path / "logs" / "components" / "kube-apiserver.log").read_text()

        # The example, through the kubeconfig of our kept cluster: everything works, images included.
        example = inner(pytester, str(EXAMPLE), "--k8s-kubeconfig", kubeconfig)
        example.assert_outcomes(passed=EXAMPLE_TESTS)
        example.stderr.fnmatch_lines(["*--k8s-kubeconfig points at the kept cluster*"])
    finally:
        down = cli("down")
    assert "deleted 1 cluster(s)" in down.stdout


def test_a_cluster_not_ours_serves_the_api_and_skips_what_needs_our_containers(
    pytester, k8s_images, clean_host, monkeypatch
):
    kubeconfig = cli("up", "--k8s-version", k8s_images.versions.kubernetes).stdout.strip().split("=", 1)[1]
    try:
        pytester.makepyfile(NOT_OURS)
        # With no engine in reach, the kubeconfig cannot be told to be ours: a cluster like any other.
        with monkeypatch.context() as no_engine:
            no_engine.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
            result = inner(pytester, "-rs", "--k8s-kubeconfig", kubeconfig)
            # The examples: what needs only the API passes (the kopf operator, the async client); the
            # webhooks skip, saying that the apiserver cannot reach this host.
            example = inner(pytester, str(EXAMPLE), "-v", "-rs", "--k8s-kubeconfig", kubeconfig)
        result.assert_outcomes(passed=1, skipped=2)
        result.stdout.fnmatch_lines(
            [
                "*stopping kube-scheduler needs the containers of a cluster of pytest-single-k8s*",
                "*k8s_images: the pods of https://* cannot run this host's images*",
            ]
        )
        outcomes = example.parseoutcomes()
        assert set(outcomes) <= {"passed", "skipped"}, example.stdout.str()
        assert outcomes["passed"] + outcomes["skipped"] == EXAMPLE_TESTS
        example.stdout.fnmatch_lines_random(
            [
                "*test_operator.py::test_the_operator_gives_each_widget_a_config_map PASSED*",
                "*test_async_client.py::test_a_watch_sees_config_maps_made_at_once* PASSED*",
                "*test_async_client.py::test_requests_in_parallel_on_one_client PASSED*",
                "*test_webhook.py::test_a_webhook_in_the_test_process_refuses_a_labelled_config_map SKIPPED*",
                "*test_operator.py::test_a_kopf_admission_webhook_refuses_a_widget_too_big SKIPPED*",
                "*k8s_webhook: the apiserver of https://* cannot reach this host*",
            ]
        )
    finally:
        cli("down")
