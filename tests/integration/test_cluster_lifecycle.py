"""A whole pytest session with a cluster, run inside this one: it leaves nothing behind."""

import sys

import pytest

from pytest_single_k8s import leftovers
from pytest_single_k8s.cluster import directory
from pytest_single_k8s.engine.labels import POD_LOG_LABEL

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


# Runs pytest in a mount namespace of its own with a tmpfs as TMPDIR: the engine sees none of the files this
# pytest makes, as when pytest runs in a container that drives the host's engine (docker-outside-of-docker).
UNSEEN_TMPDIR = """
import ctypes, os, subprocess, sys
if ctypes.CDLL(None, use_errno=True).unshare(0x00020000) != 0:  # CLONE_NEWNS
    raise OSError(ctypes.get_errno(), "unshare")
subprocess.run(["mount", "--make-rprivate", "/"], check=True)
subprocess.run(["mount", "-t", "tmpfs", "tmpfs", sys.argv[1]], check=True)
os.environ["TMPDIR"] = sys.argv[1]
subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s", *sys.argv[2:]])
print("LEFT-IN-TMPDIR", sorted(os.listdir(sys.argv[1])))
"""


def test_a_session_whose_files_the_engine_cannot_see_runs_its_cluster_on_the_engine_s_host(pytester, k8s_images):
    """Everything the cluster keeps on disk is on the engine's host, made there through the engine; this
    process keeps its credentials in memory, and its TMPDIR is left as it was."""
    pytester.makepyfile(test_pods=INNER_TEST.replace("OUTCOME", repr("passed")), test_where=WHERE)
    runner = pytester.path / "unseen_tmpdir.py"
    runner.write_text(UNSEEN_TMPDIR)
    private = pytester.mkdir("private-tmp")
    result = pytester.run(sys.executable, str(runner), str(private), "--k8s-version", k8s_images.versions.kubernetes)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"*CLUSTER-DIRECTORY {directory.ROOT}/{directory.PREFIX}*", "LEFT-IN-TMPDIR []"])
    assert leftovers.find(k8s_images.client, k8s_images.ref("kubernetes")) == []


# What a kubelet stopped while it removed a pod can leave: the pod's container, its sandbox gone first. It is
# known by its log file, which cri-dockerd names in a label, in the cluster's directory.
ORPHAN = """
from pytest_single_k8s.cluster.directory import POD_LOGS
from pytest_single_k8s.engine.labels import POD_LOG_LABEL, POD_UID_LABEL


def test_leaves_a_pods_container_without_its_sandbox(k8s_cluster, k8s_images):
    log = k8s_cluster.plan.directory / POD_LOGS / "ns_orphan_0a2b85/orphan/0.log"
    labels = {POD_LOG_LABEL: str(log), POD_UID_LABEL: "0a2b85"}
    k8s_images.client.containers.create(k8s_images.ref("debian"), ["true"], labels=labels)
"""


def test_a_pods_container_whose_sandbox_went_first_goes_with_its_cluster_and_no_other(pytester, k8s_images):
    client, debian = k8s_images.client, k8s_images.ref("debian")
    # Another's, by its log file: left alone.
    other = client.containers.create(debian, ["true"], labels={POD_LOG_LABEL: "/var/log/pods/ns_web_1/web/0.log"})
    try:
        pytester.makepyfile(ORPHAN)
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--k8s-version", k8s_images.versions.kubernetes
        )
        result.assert_outcomes(passed=1)
        assert leftovers.find(client, k8s_images.ref("kubernetes")) == []
        assert [x.id for x in client.containers.list(all=True, filters={"label": POD_LOG_LABEL})] == [other.id]
    finally:
        other.remove(force=True)
