"""Bad input, dead owners and concurrent sessions: each fails clearly and leaves nothing behind.

Every test here runs whole pytest sessions of its own (pytester, in subprocesses)
and checks with leftovers.find() that nothing of ours is left on the host.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from pytest_single_k8s import components as c
from pytest_single_k8s import leftovers, preflight
from pytest_single_k8s.waiting import wait_for

pytestmark = pytest.mark.own_cluster

MARKED_TEST = """
import pytest

@pytest.mark.k8s
def test_uses_the_cluster(k8s_cluster):
    assert k8s_cluster.kubectl("get", "nodes")
"""


@pytest.fixture
def clean_host(k8s_images):
    """Asserts the host is clean before and after the test."""
    image = k8s_images.ref("kubernetes")
    assert leftovers.find(k8s_images.client, image) == [], "the host was not clean before the test"
    yield lambda: leftovers.find(k8s_images.client, image)
    assert leftovers.find(k8s_images.client, image) == []


def inner(pytester, *args):
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_no_docker_engine_skips_marked_tests_with_a_reason(pytester, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    pytester.makepyfile(MARKED_TEST + "\n\ndef test_unmarked():\n    pass\n")
    result = inner(pytester, "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*SKIPPED*no Docker engine answers*host/setup.sh*"])


def test_no_docker_engine_is_an_error_when_the_cluster_is_required(pytester, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    pytester.makepyfile(MARKED_TEST)
    result = inner(pytester, "--k8s-require", "true")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*DockerUnavailable: no Docker engine answers*"])


def test_a_session_without_marked_tests_starts_and_builds_nothing(pytester, k8s_images, clean_host):
    images_before = sorted(image.id for image in k8s_images.client.images.list(all=True))
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = inner(pytester, "--k8s-version", "1.0.0")  # a version that could not even be resolved
    result.assert_outcomes(passed=1)
    assert sorted(image.id for image in k8s_images.client.images.list(all=True)) == images_before


def test_an_unknown_version_fails_before_anything_starts(pytester, clean_host):
    pytester.makepyfile(MARKED_TEST)
    result = inner(pytester, "--k8s-version", "1.37.99")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*VersionError: Kubernetes 1.37.99 is not served*nearest valid versions: v1.37.*"])


def test_a_taken_apiserver_port_is_named_and_nothing_is_left(pytester, k8s_images, clean_host):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        pytester.makepyfile(MARKED_TEST)
        result = inner(pytester, "--k8s-version", k8s_images.versions.kubernetes, "--k8s-apiserver-port", str(port))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ComponentFailed: network could not start*", "*hint: choose another apiserver port*"])


def test_a_component_that_dies_at_start_is_named_with_its_log(pytester, k8s_images, clean_host):
    pytester.makepyfile(MARKED_TEST)
    result = inner(pytester, "--k8s-version", k8s_images.versions.kubernetes,
                   "--k8s-extra-arg", "kube-apiserver=--no-such-flag=1")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*ComponentFailed: kube-apiserver exited with status 1 while we waited for it; its last log lines:*",
        "*unknown flag: --no-such-flag*",
    ])
    result.stderr.fnmatch_lines(["*Deleting the failed cluster*"])


def host_grants_sys_resource():
    with open("/proc/self/status") as status:
        capbnd = next(line for line in status if line.startswith("CapBnd:")).split()[1]
    return bool(int(capbnd, 16) >> 24 & 1)


@pytest.mark.skipif(host_grants_sys_resource(), reason="this host can grant CAP_SYS_RESOURCE: plain runc works here")
def test_preflight_explains_a_host_that_cannot_start_privileged_containers(k8s_images):
    # Plain runc, without the wrapper host/setup.sh registered, really fails here.
    with pytest.raises(preflight.PreflightError, match="lacks? .*CAP_SYS_RESOURCE|without CAP_SYS_RESOURCE.*setup.sh"):
        preflight.check(k8s_images.client, k8s_images.ref("kubernetes"), runtime="runc")
    preflight.check(k8s_images.client, k8s_images.ref("kubernetes"))  # the engine's default runtime passes


LONG_TEST = """
import time
import pytest

@pytest.mark.k8s
def test_holds_the_cluster(k8s_cluster):
    print("CLUSTER-UP", flush=True)
    time.sleep(float(__import__("os").environ.get("HOLD_SECONDS", "120")))
"""


def start_inner(pytester, k8s_images, hold, *args):
    pytester.makepyfile(LONG_TEST)
    env = {**os.environ, "HOLD_SECONDS": str(hold)}
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s", "--k8s-version",
         k8s_images.versions.kubernetes, *args],
        cwd=pytester.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def wait_until_up(process):
    for line in process.stdout:
        if "CLUSTER-UP" in line:
            return
    raise AssertionError(f"the inner session ended before its cluster was up (exit {process.wait()})")


def test_a_killed_session_is_reaped_within_seconds(pytester, k8s_images, clean_host):
    process = start_inner(pytester, k8s_images, 300)
    try:
        wait_until_up(process)
        assert clean_host(), "the inner session's cluster should be visible"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        started = time.monotonic()

        def reaped():
            assert clean_host() == []

        wait_for(reaped, "the reaper to remove the killed session's cluster", 30, interval=0.5)
        print(f"reaped {time.monotonic() - started:.1f}s after SIGKILL")
    finally:
        process.kill()


def test_ctrl_c_during_start_up_leaves_nothing(pytester, k8s_images, clean_host):
    process = start_inner(pytester, k8s_images, 300)
    try:
        def component_started():
            assert k8s_images.client.containers.list(filters={"label": f"{c.COMPONENT_LABEL}={c.APISERVER}"})

        wait_for(component_started, "the inner session to start its apiserver", 60, interval=0.05)
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=60)[0]
        assert "CLUSTER-UP" not in output
        assert "Deleting the failed cluster" in output, output[-2000:]  # interrupted in create(), not after
    finally:
        process.kill()


def test_a_second_session_waits_for_the_first_and_says_why(pytester, k8s_images, clean_host):
    first = start_inner(pytester, k8s_images, 20)
    try:
        wait_until_up(first)
        second_dir = pytester.mkdir("second")
        (second_dir / "test_second.py").write_text(MARKED_TEST)
        second = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--k8s-version",
             k8s_images.versions.kubernetes, "--k8s-wait-timeout", "3", str(second_dir)],
            cwd=pytester.path, capture_output=True, text=True, timeout=120,
        )
        assert "Waiting for the cluster of another session on this Docker engine to end" in second.stderr
        assert "another session's cluster still runs on this Docker engine after 3s" in second.stdout
        assert second.returncode == 1
        assert first.poll() is None, "the first session must not be disturbed"
        first_output = first.communicate(timeout=120)[0]
        assert first.returncode == 0, first_output[-2000:]
    finally:
        first.kill()


XDIST_TESTS = """
import pytest

@pytest.mark.k8s
@pytest.mark.parametrize("n", range(4))
def test_worker(k8s_cluster, k8s_namespace, n):
    assert k8s_cluster.kubectl("get", "namespace", k8s_namespace)
    with open("seen.txt", "a") as seen:  # xdist does not pass workers' output on
        seen.write(f"{k8s_cluster.plan.cluster_id} {k8s_namespace}\\n")
"""


def test_xdist_workers_share_one_cluster_and_the_last_tears_down(pytester, k8s_images, clean_host):
    pytest.importorskip("xdist")
    pytester.makepyfile(XDIST_TESTS)
    result = inner(pytester, "-n", "2", "--k8s-version", k8s_images.versions.kubernetes)
    result.assert_outcomes(passed=4)
    seen = [line.split() for line in (pytester.path / "seen.txt").read_text().splitlines()]
    assert len({cluster for cluster, _ in seen}) == 1, seen
    assert len({namespace for _, namespace in seen}) == 4, seen


def test_down_deletes_a_cluster_whose_owner_cannot_be_judged(pytester, k8s_images, clean_host):
    # A session that holds its cluster; `down` is for a cluster whose owner ran elsewhere.
    process = start_inner(pytester, k8s_images, 300)
    try:
        wait_until_up(process)
        result = subprocess.run([sys.executable, "-m", "pytest_single_k8s", "down"], capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "deleted 1 cluster(s)" in result.stdout
        assert clean_host() == []
    finally:
        process.kill()
        process.wait(timeout=30)
