"""A whole pytest session with a cluster, run inside this one: it leaves nothing behind."""

import shutil
import tempfile
from pathlib import Path

import pytest

from pytest_single_k8s import leftovers

pytestmark = pytest.mark.own_cluster

INNER_TEST = """
import pytest
from kubernetes import client
from pytest_single_k8s.common.waiting import wait_for


@pytest.mark.k8s
def test_with_a_pod_and_a_node_port(k8s_client, k8s_namespace, k8s_images):
    core = client.CoreV1Api(k8s_client)
    container = client.V1Container(name="sleep", image=k8s_images.ref("debian"), command=["sleep", "600"])
    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="sleep", labels={"app": "sleep"}),
                       spec=client.V1PodSpec(containers=[container]))
    core.create_namespaced_pod(k8s_namespace, pod)
    service = client.V1Service(metadata=client.V1ObjectMeta(name="sleep"), spec=client.V1ServiceSpec(
        type="NodePort", selector={"app": "sleep"}, ports=[client.V1ServicePort(port=80)]))
    core.create_namespaced_service(k8s_namespace, service)

    def running():
        assert core.read_namespaced_pod("sleep", k8s_namespace).status.phase == "Running"

    wait_for(running, "the pod to run", 60)
    assert OUTCOME == "passed", "this test fails on purpose"
"""


WHERE = """
def test_where(k8s_cluster):
    print("CLUSTER-DIRECTORY", k8s_cluster.plan.directory)
"""


@pytest.mark.parametrize("outcome", ["passed", "failed"])
def test_a_session_leaves_nothing_behind(pytester, k8s_images, outcome):
    kubernetes_image = k8s_images.ref("kubernetes")
    assert leftovers.find(k8s_images.client, kubernetes_image) == [], "the host was not clean before the test"
    pytester.makepyfile(INNER_TEST.replace("OUTCOME", repr(outcome)))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--k8s-version", k8s_images.versions.kubernetes)
    result.assert_outcomes(**{outcome: 1})
    result.stderr.fnmatch_lines(["*Deleting the cluster*"])
    assert leftovers.find(k8s_images.client, kubernetes_image) == []


def test_a_session_with_tmpdir_elsewhere_keeps_its_cluster_there_and_leaves_nothing(pytester, k8s_images, monkeypatch):
    elsewhere = Path(tempfile.mkdtemp(prefix="psk8s-tmpdir-", dir="/var/tmp"))
    try:
        monkeypatch.setenv("TMPDIR", str(elsewhere))
        pytester.makepyfile(
            test_pods=INNER_TEST.replace("OUTCOME", repr("passed")),
            test_where=WHERE,
        )
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--k8s-version",
                                               k8s_images.versions.kubernetes)  # fmt: skip
        result.assert_outcomes(passed=2)
        result.stdout.fnmatch_lines([f"*CLUSTER-DIRECTORY {elsewhere}/pytest-single-k8s-*"])
        assert leftovers.find(k8s_images.client, k8s_images.ref("kubernetes"), str(elsewhere)) == []
        assert list(elsewhere.iterdir()) == []
    finally:
        shutil.rmtree(elsewhere, ignore_errors=True)
