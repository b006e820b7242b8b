"""Concurrent sessions and pytest-xdist on one engine: one cluster at a time, shared or waited for.

Every test here runs whole pytest sessions of its own (pytester, in subprocesses)
and checks with leftovers.find() that nothing of ours is left on the host.
"""

import subprocess
import sys
import time

import pytest

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
