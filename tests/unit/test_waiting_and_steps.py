import concurrent.futures
import os
import socket
import threading
import time

import pytest

from pytest_single_k8s.common.steps import all_of, parallel
from pytest_single_k8s.common.waiting import WaitCancelled, WaitTimeout, wait_for
from pytest_single_k8s.engine import ownership
from pytest_single_k8s.errors import SingleK8sError
from pytest_single_k8s.plugin.sharing import SharedCluster


def test_wait_for_retries_until_the_check_passes():
    attempts = []

    def check():
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("not yet")
        return "done"

    assert wait_for(check, "three attempts", timeout=5, interval=0.01) == "done"
    assert len(attempts) == 3


def test_wait_for_names_what_it_waited_for_and_the_last_failure():
    def never():
        raise RuntimeError("connection refused")

    with pytest.raises(WaitTimeout, match="timed out after 0s waiting for the apiserver: connection refused"):
        wait_for(never, "the apiserver", timeout=0.2, interval=0.05)


def test_wait_for_raises_fatal_and_unlisted_errors_at_once():
    calls = []

    def fatal():
        calls.append(1)
        raise KeyError("dead")

    with pytest.raises(KeyError):
        wait_for(fatal, "x", timeout=5, interval=0.01, fatal=(KeyError,))
    with pytest.raises(KeyError):
        wait_for(fatal, "x", timeout=5, interval=0.01, retry_on=(RuntimeError,))
    assert len(calls) == 2


def test_parallel_runs_every_step_and_raises_the_first_failure():
    done = []

    def fail():
        raise ValueError("first")

    with pytest.raises(ValueError, match="first"):
        parallel([fail, lambda: done.append("a"), lambda: done.append("b")])
    assert sorted(done) == ["a", "b"]


def test_all_of_runs_later_groups_after_a_failure_and_counts_the_failures():
    done = []

    def fail(message):
        def step():
            raise RuntimeError(message)

        return step

    with pytest.raises(RuntimeError, match="one") as raised:
        all_of([[fail("one")], [lambda: done.append("later")], [fail("two")]])
    assert done == ["later"]
    assert "and 1 more clean-up step(s) failed" in raised.value.__notes__[0]


def test_an_owner_names_its_host_and_pid():
    host, pid = ownership.current().split(":")
    assert (host, int(pid)) == (socket.gethostname(), os.getpid())


def test_a_failing_step_cancels_the_waits_beside_it_at_once():
    cancel = threading.Event()

    def never():
        raise RuntimeError("not yet")

    def fail_soon():
        time.sleep(0.2)
        raise ValueError("the apiserver died")

    started = time.monotonic()
    with pytest.raises(ValueError, match="the apiserver died"):
        parallel(
            [lambda: wait_for(never, "a wait that never passes", timeout=60, interval=5, cancel=cancel), fail_soon],
            cancel=cancel,
        )
    assert time.monotonic() - started < 2


def test_a_cancelled_wait_says_so_rather_than_timing_out():
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()

    def never():
        raise RuntimeError("not yet")

    started = time.monotonic()
    with pytest.raises(WaitCancelled, match="stopped waiting for the scheduler"):
        wait_for(never, "the scheduler", timeout=60, interval=10, cancel=cancel)
    assert time.monotonic() - started < 2


def test_an_interrupt_cancels_the_running_steps(monkeypatch):
    """Ctrl-C reaches the main thread while it waits for the steps: they must stop too."""
    cancel = threading.Event()
    ended = []

    def watch():
        cancel.wait(30)
        ended.append(time.monotonic())

    real_wait = concurrent.futures.wait

    def interrupted_wait(futures, return_when=concurrent.futures.ALL_COMPLETED):
        if return_when == concurrent.futures.FIRST_EXCEPTION:
            raise KeyboardInterrupt
        return real_wait(futures, return_when=return_when)

    monkeypatch.setattr(concurrent.futures, "wait", interrupted_wait)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        parallel([watch, watch], cancel=cancel)
    assert len(ended) == 2
    assert max(ended) - started < 2


def test_a_failed_creation_is_shared_with_every_xdist_worker(tmp_path):
    first, second = SharedCluster(tmp_path, "run1"), SharedCluster(tmp_path, "run1")

    def dies():
        raise SingleK8sError("kube-apiserver exited with status 1")

    with pytest.raises(SingleK8sError):
        first.join(dies, lambda state: None)
    attempts = []

    def create():
        attempts.append("created")
        return {}

    def attach(state):
        attempts.append("attached")

    with pytest.raises(SingleK8sError, match="another pytest-xdist worker failed to create the cluster: Single"):
        second.join(create, attach)
    assert attempts == []  # neither created nor attached
