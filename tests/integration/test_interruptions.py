"""A killed or interrupted session, and `down`: the cluster goes, within seconds, and nothing is left.

Every test here runs whole pytest sessions of its own (pytester, in subprocesses)
and checks with leftovers.find() that nothing of ours is left on the host.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

from pytest_single_k8s.cluster import names as c
from pytest_single_k8s.common.waiting import wait_for
from pytest_single_k8s.engine import labels

from .sessions import start_inner, wait_until_up

pytestmark = pytest.mark.own_cluster


def killed_and_reaped(process, clean_host):
    """Kill the session once its cluster is up; the reaper removes the cluster within 30 s."""
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


def test_a_killed_session_is_reaped_within_seconds(pytester, k8s_images, clean_host):
    killed_and_reaped(start_inner(pytester, k8s_images, 300), clean_host)


@pytest.mark.skipif(os.geteuid() != 0, reason="a PID namespace of its own needs root")
def test_a_killed_session_in_a_pid_namespace_of_its_own_is_reaped(pytester, k8s_images, clean_host):
    """The reaper sees no process of the session (as when pytest runs in a container beside the engine, or
    on another machine): the session's lease on its cluster is what tells that it ended."""
    # SIGKILL to unshare kills its child, the namespace's first process, and so every process in it.
    own_pids = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc"]
    killed_and_reaped(start_inner(pytester, k8s_images, 300, wrapper=own_pids), clean_host)


def test_ctrl_c_during_start_up_leaves_nothing(pytester, k8s_images, clean_host):
    process = start_inner(pytester, k8s_images, 300)
    try:

        def component_started():
            assert k8s_images.client.containers.list(filters={"label": f"{labels.COMPONENT_LABEL}={c.APISERVER}"})

        wait_for(component_started, "the inner session to start its apiserver", 60, interval=0.05)
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=60)[0]
        assert "CLUSTER-UP" not in output
        assert "Deleting the failed cluster" in output, output[-2000:]  # interrupted in create(), not after
    finally:
        process.kill()


def test_down_deletes_a_cluster_whose_owner_cannot_be_judged(pytester, k8s_images, clean_host):
    # A session that holds its cluster: `down` deletes it all the same.
    process = start_inner(pytester, k8s_images, 300)
    try:
        wait_until_up(process)
        # `down` builds nothing and resolves no version: with the Go proxy off and an empty cache it still works.
        offline = {**os.environ, "GOPROXY": "off", "PYTEST_SINGLE_K8S_CACHE": str(pytester.mkdir("empty-cache"))}
        down = [sys.executable, "-m", "pytest_single_k8s", "down"]
        result = subprocess.run(down, capture_output=True, text=True, timeout=120, env=offline)
        assert result.returncode == 0, result.stderr
        assert "deleted 1 cluster(s)" in result.stdout
        assert clean_host() == []
    finally:
        process.kill()
        process.wait(timeout=30)


def test_ctrl_c_during_a_readiness_wait_ends_every_wait_and_leaves_nothing_within_5s(pytester, k8s_images, clean_host):
    # The scheduler serves on another port than the one we check: its readiness wait can never pass.
    process = start_inner(pytester, k8s_images, 300, "--k8s-extra-arg", "kube-scheduler=--secure-port=10261")
    try:

        def scheduler_runs():
            assert k8s_images.client.containers.list(filters={"label": f"{labels.COMPONENT_LABEL}={c.SCHEDULER}"})

        wait_for(scheduler_runs, "the inner session to start its scheduler", 120, interval=0.1)
        time.sleep(2)  # well inside the parallel readiness waits
        process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()

        def clean():
            assert clean_host() == []

        wait_for(clean, "the interrupted cluster to be gone", 30, interval=0.1)
        gone_after = time.monotonic() - interrupted
        output = process.communicate(timeout=30)[0]
        assert "Deleting the failed cluster" in output, output[-2000:]
        assert gone_after <= 5, f"the cluster took {gone_after:.1f}s to go after Ctrl-C"
        print(f"cluster gone {gone_after:.1f}s after Ctrl-C")
    finally:
        process.kill()
