"""Which engine the plugin drives: the one the docker CLI would (DOCKER_HOST, else the Docker context)."""

import json

import pytest
from docker.context import Context

from pytest_single_k8s.engine import connection
from pytest_single_k8s.errors import DockerUnavailable


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text("{}")
    Context("colima", host="unix:///Users/me/.colima/default/docker.sock").save()
    Context("build-host", host="tcp://build-host.test:2375").save()
    return tmp_path


def test_the_current_context_of_the_docker_cli_is_used(docker_config):
    assert connection.docker_host() is None  # the default context: the default socket
    (docker_config / "config.json").write_text(json.dumps({"currentContext": "colima"}))
    assert connection.docker_host() == "http+unix:///Users/me/.colima/default/docker.sock"  # as docker-py spells it


def test_docker_context_and_docker_host_win_in_that_order(docker_config, monkeypatch):
    (docker_config / "config.json").write_text(json.dumps({"currentContext": "colima"}))
    monkeypatch.setenv("DOCKER_CONTEXT", "build-host")
    assert connection.docker_host() == "http://build-host.test:2375"
    monkeypatch.setenv("DOCKER_HOST", "tcp://docker:2375")
    assert connection.docker_host() == "tcp://docker:2375"


def test_a_context_that_is_not_there_is_named(docker_config, monkeypatch):
    monkeypatch.setenv("DOCKER_CONTEXT", "gone")
    with pytest.raises(DockerUnavailable, match="context 'gone' is not found"):
        connection.docker_host()
