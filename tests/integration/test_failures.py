"""Bad input and hosts we cannot use: each fails clearly, before a half-made cluster, and leaves nothing behind.

Every test here runs whole pytest sessions of its own (pytester, in subprocesses)
and checks with leftovers.find() that nothing of ours is left on the host.
"""

import shutil
import socket
import subprocess
import uuid

import pytest

from pytest_single_k8s.engine import labels, preflight

from .sessions import MARKED_TEST, inner

pytestmark = pytest.mark.own_cluster


def test_no_docker_engine_skips_marked_tests_with_a_reason(pytester, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    pytester.makepyfile(MARKED_TEST + "\n\ndef test_unmarked():\n    pass\n")
    result = inner(pytester, "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*SKIPPED*no Docker engine answers*host/setup.sh*"])


def test_no_docker_engine_is_an_error_when_the_cluster_is_required(pytester, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    pytester.makepyfile(MARKED_TEST)
    result = inner(pytester, "--k8s-require")
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
    result = inner(
        pytester, "--k8s-version", k8s_images.versions.kubernetes, "--k8s-extra-arg", "kube-apiserver=--no-such-flag=1"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ComponentFailed: kube-apiserver exited with status 1 while we waited for it; its last log lines:*",
            "*unknown flag: --no-such-flag*",
        ]
    )
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


def test_another_kubernetes_pods_on_the_engine_make_the_session_refuse_and_stay_untouched(
    pytester, k8s_images, run_container, clean_host
):
    # A pod container as another kubelet with cri-dockerd makes it: its labels, its naming, its own sandbox image.
    uid = str(uuid.uuid4())
    foreign = run_container(
        k8s_images.ref("nginx"),
        name_hint="foreign-pod",
        labels={labels.POD_UID_LABEL: uid},
    )
    pytester.makepyfile(MARKED_TEST)
    result = inner(pytester, "--k8s-version", k8s_images.versions.kubernetes)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*ForeignKubernetes: another Kubernetes uses this Docker engine*{foreign.name}*"])
    foreign.reload()
    assert foreign.status == "running"
    assert foreign.labels[labels.POD_UID_LABEL] == uid


def test_another_kubernetes_node_agent_on_the_host_makes_the_session_refuse(pytester, k8s_images, clean_host):
    # A process called kubelet on the engine's host, as another Kubernetes' node would run.
    impostor = pytester.path / "kubelet"
    shutil.copy("/bin/sleep", impostor)
    process = subprocess.Popen([str(impostor), "300"])
    try:
        pytester.makepyfile(MARKED_TEST)
        result = inner(pytester, "--k8s-version", k8s_images.versions.kubernetes)
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(
            [f"*ForeignKubernetes: another Kubernetes runs on this host: kubelet (pid {process.pid})*"]
        )
        assert process.poll() is None
    finally:
        process.kill()
        process.wait()
