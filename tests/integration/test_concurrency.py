"""Concurrent sessions and pytest-xdist on one engine: one cluster at a time, shared or waited for.

Every test here runs whole pytest sessions of its own (pytester, in subprocesses)
and checks with leftovers.find() that nothing of ours is left on the host.
"""

import subprocess
import sys
import time

import pytest

from pytest_single_k8s.cluster import pods, teardown
from pytest_single_k8s.engine import labels
from pytest_single_k8s.engine.containers import create, listed

from .sessions import MARKED_TEST, XDIST_TESTS, inner, start_inner, wait_until_up

pytestmark = pytest.mark.own_cluster


def test_a_second_session_waits_for_the_first_and_says_why(pytester, k8s_images, clean_host):
    first = start_inner(pytester, k8s_images, 20)
    try:
        wait_until_up(first)
        second_dir = pytester.mkdir("second")
        (second_dir / "test_second.py").write_text(MARKED_TEST)
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "--k8s-version",
                k8s_images.versions.kubernetes,
                "--k8s-wait-timeout",
                "3",
                str(second_dir),
            ],
            cwd=pytester.path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Waiting for the cluster of another session on this Docker engine to end" in second.stderr
        assert "another session's cluster still runs on this Docker engine after 3s" in second.stdout
        assert second.returncode == 1
        assert first.poll() is None, "the first session must not be disturbed"
        first_output = first.communicate(timeout=120)[0]
        assert first.returncode == 0, first_output[-2000:]
    finally:
        first.kill()


def test_xdist_workers_share_one_cluster_and_the_last_tears_down(pytester, k8s_images, clean_host):
    pytest.importorskip("xdist")
    pytester.makepyfile(XDIST_TESTS)
    result = inner(pytester, "-n", "2", "--k8s-version", k8s_images.versions.kubernetes)
    result.assert_outcomes(passed=4)
    seen = [line.split() for line in (pytester.path / "seen.txt").read_text().splitlines()]
    assert len({cluster for cluster, _ in seen}) == 1, seen
    assert len({namespace for _, namespace in seen}) == 4, seen


def test_xdist_workers_fail_at_once_with_the_first_worker_s_error(pytester, k8s_images, clean_host):
    pytest.importorskip("xdist")
    pytester.makepyfile(XDIST_TESTS)
    started = time.monotonic()
    result = inner(
        pytester, "-n", "2", "--k8s-version", k8s_images.versions.kubernetes,
        "--k8s-extra-arg", "kube-apiserver=--no-such-flag=1",
    )  # fmt: skip
    print(f"both workers failed in {time.monotonic() - started:.1f}s")
    result.assert_outcomes(errors=4)
    report = result.stdout.str()
    # One creation, one failure: the other worker reports the first one's error instead of trying again.
    assert report.count("ComponentFailed: kube-apiserver exited with status 1") >= 1
    assert "another pytest-xdist worker failed to create the cluster: ComponentFailed: kube-apiserver exited" in report
    assert "unknown flag: --no-such-flag" in report


def test_a_session_reaps_what_dead_owners_left_only_once_it_holds_the_engine(pytester, k8s_images, clean_host):
    """An abandoned cluster (here: the record a failed teardown leaves) is not touched by a session that
    waits for another's cluster, nor are that cluster's pods; the next session that holds the engine
    removes it."""
    client = k8s_images.client
    abandoned = teardown.record("deadbeef", "/tmp/pytest-single-k8s-deadbeef", k8s_images.ref("kubernetes"), {})
    first = start_inner(pytester, k8s_images, 30)
    try:
        wait_until_up(first)
        pods_before = {x.id for x in listed(client, pods.OUR_SANDBOXES)}
        assert pods_before, "the first session's cluster runs no pod: the check would prove nothing"
        create(client, abandoned)
        second_dir = pytester.mkdir("second")
        (second_dir / "test_second.py").write_text(MARKED_TEST)
        waited = inner(pytester, "--k8s-version", k8s_images.versions.kubernetes, "--k8s-wait-timeout", "3", second_dir)
        waited.stdout.fnmatch_lines(["*another session's cluster still runs on this Docker engine after 3s*"])
        assert client.containers.get(abandoned.name)  # not reaped by a session that does not hold the engine
        assert {x.id for x in listed(client, pods.OUR_SANDBOXES)} >= pods_before  # nor the first one's pods
        assert first.communicate(timeout=120)[0].count(" passed") == 1
        assert first.returncode == 0
        third = inner(pytester, "--k8s-version", k8s_images.versions.kubernetes, second_dir)
        third.assert_outcomes(passed=1)
        assert "Removing cluster deadbeef" in third.stderr.str()
        assert not listed(client, {"label": f"{labels.CLUSTER_LABEL}=deadbeef"})
    finally:
        first.kill()
        for container in listed(client, {"label": f"{labels.CLUSTER_LABEL}=deadbeef"}):
            container.remove(force=True)
