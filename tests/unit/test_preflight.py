import docker.errors
import pytest

from pytest_single_k8s.engine import preflight


def test_a_refused_capability_is_explained_with_the_fix():
    error = docker.errors.APIError("500 Server Error", explanation="OCI runtime create failed: unable to apply caps")
    message = str(preflight.explain(error))
    assert "CAP_SYS_RESOURCE" in message
    assert "host/setup.sh" in message
    assert "unable to apply caps" in message


def test_other_refusals_keep_the_engine_s_words():
    error = docker.errors.APIError("500 Server Error", explanation="no such runtime")
    assert str(preflight.explain(error)) == "this host cannot start a privileged container: no such runtime"


def test_a_remote_engine_is_refused_before_anything_starts(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.5:2375")
    with pytest.raises(preflight.PreflightError, match="DOCKER_HOST is tcp://10.0.0.5:2375.*unix://"):
        preflight.check_engine(client=None)
