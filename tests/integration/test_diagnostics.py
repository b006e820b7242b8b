"""A failed test's report shows what the cluster saw: events, pods, their logs, components' errors."""

import re

import pytest

from .sessions import inner

pytestmark = pytest.mark.own_cluster

CRASHING = """
import pytest
from kubernetes import client
from pytest_single_k8s.common.waiting import wait_for

MARK = "crashed-on-purpose-7c1f"

@pytest.mark.k8s
def test_a_crash_looping_pod(k8s_client, k8s_namespace, k8s_images):
    core = client.CoreV1Api(k8s_client)
    container = client.V1Container(
        name="crasher", image=k8s_images.ref("debian"), command=["sh", "-c", f"echo {MARK}; exit 3"])
    core.create_namespaced_pod(k8s_namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="crasher"), spec=client.V1PodSpec(containers=[container])))

    def backing_off():
        status = core.read_namespaced_pod("crasher", k8s_namespace).status.container_statuses[0]
        assert status.restart_count >= 1 and status.state.waiting.reason == "CrashLoopBackOff"

    wait_for(backing_off, "the pod to back off", 60)
    assert False, "the test fails on purpose"

@pytest.mark.k8s
def test_a_passing_test_gets_no_sections(k8s_namespace):
    pass
"""


def test_a_failed_test_shows_events_pods_and_their_last_lines_and_writes_the_logs(pytester, k8s_images, clean_host):
    pytester.makepyfile(CRASHING)
    logs = pytester.path / "k8s-logs"
    result = inner(pytester, "--k8s-version", k8s_images.versions.kubernetes, "--k8s-logs-dir", str(logs))
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    sections = output.split("k8s events in ", 1)[1]  # only the failed test's report has them
    assert output.count("k8s events in ") == 1
    assert "BackOff" in sections
    assert "Back-off restarting failed container crasher" in sections
    assert "pod crasher: Running" in sections
    # The pod goes on crashing while the report is made: it may be backing off or just ended again.
    state = r"container crasher: (waiting \(CrashLoopBackOff: .*\)|terminated \(Error, exit code 3\)), restarts \d"
    assert re.search(state, sections)
    assert "last log lines:\n      crashed-on-purpose-7c1f" in sections
    assert "previous run's log lines:" in sections
    assert "k8s components that logged errors during the test" in sections
    assert "kubelet:" in sections

    [written] = logs.iterdir()
    assert written.name.endswith("test_a_crash_looping_pod")
    # The pod goes on crashing: the run that is "previous" now may be gone already, the last one's log is there.
    assert "crashed-on-purpose-7c1f" in (written / "call" / "pods" / "crasher.crasher.log").read_text()
    assert (written / "call" / "pods" / "crasher.crasher.previous.log").exists()
    assert "BackOff" in (written / "call" / "events.txt").read_text()
    assert "Serving securely on" in (written / "call" / "components" / "kube-scheduler.log").read_text()
