"""Preflight refusals, judged from `docker info` and `docker version` answers as engines give them.

The answers in tests/unit/engines/ are trimmed to the fields an engine of that
kind sets (the rest of a real answer is noise here).
"""

import json
from pathlib import Path

import docker.errors
import pytest

from pytest_single_k8s.engine import preflight

ANSWERS = Path(__file__).parent / "engines"


def answer(name: str) -> tuple[dict, dict]:
    recorded = json.loads((ANSWERS / f"{name}.json").read_text())
    return recorded["info"], recorded["version"]


# Docker Desktop runs its engine in a VM, as colima and Lima do: judged by what it can do (the probes), not its name.
@pytest.mark.parametrize("engine", ["docker-20.10-cgroupfs-v1", "docker-28-systemd-v2", "docker-desktop"])
def test_the_engines_we_run_on_pass(engine):
    preflight.check_engine(*answer(engine))


@pytest.mark.parametrize(
    ("engine", "refusal"),
    [
        ("docker-rootless", r"runs rootless: .*host's PID and network namespaces.*rootful Docker Engine"),
        ("podman", r"Podman's Docker-compatible service.*Docker Engine itself"),
    ],
)
def test_engines_that_cannot_host_the_kubelet_are_refused_with_what_to_do(engine, refusal):
    with pytest.raises(preflight.PreflightError, match=refusal):
        preflight.check_engine(*answer(engine))


def test_a_refused_capability_is_explained_with_the_fix():
    error = docker.errors.APIError("500 Server Error", explanation="OCI runtime create failed: unable to apply caps")
    message = str(preflight.explain(error))
    assert "CAP_SYS_RESOURCE" in message
    assert "host/setup.sh" in message
    assert "unable to apply caps" in message


def test_other_refusals_keep_the_engine_s_words():
    error = docker.errors.APIError("500 Server Error", explanation="no such runtime")
    assert str(preflight.explain(error)) == "this host cannot start a privileged container: no such runtime"


def test_a_host_that_cannot_share_mounts_is_refused_with_what_to_do():
    failure = "host-prepare could not prepare the host; its last log lines:\n    mount: permission denied"
    message = str(preflight.unshared_mounts(failure))
    assert "(rshared propagation)" in message
    assert "pods' volumes" in message
    assert "colima" in message
    assert message.endswith("mount: permission denied")
