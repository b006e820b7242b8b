import os
import socket

import pytest

from pytest_single_k8s import ownership
from pytest_single_k8s.steps import all_of, parallel
from pytest_single_k8s.waiting import WaitTimeout, wait_for


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


def test_an_owner_is_gone_only_when_its_process_certainly_ended():
    me = ownership.current()
    assert me.startswith(f"{socket.gethostname()}:{os.getpid()}:")
    assert not ownership.is_gone(me)
    host, pid, started = me.split(":")
    assert ownership.is_gone(f"{host}:{pid}:{int(started) + 1}")  # the PID was reused
    assert ownership.is_gone(f"{host}:999999999:1")  # no such process
    assert not ownership.is_gone(f"another-host:{pid}:{started}")  # cannot tell: leave it alone
