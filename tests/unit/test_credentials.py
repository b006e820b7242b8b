"""This process's credentials for a cluster: memory files that other processes of the user open by
path, that no disk holds, and that go with the process (or close())."""

import json
import os
import subprocess
import sys

import pytest

from pytest_single_k8s.cluster import credentials
from pytest_single_k8s.cluster.credentials import CLIENT_FILES, KUBECONFIG, Credentials
from pytest_single_k8s.errors import SingleK8sError

FILES = {name: f"content of {name}\n".encode() for name in CLIENT_FILES}


def test_another_process_reads_them_by_path_and_the_kubeconfig_names_the_server():
    held = Credentials(FILES, "https://apiserver.test:6443")  # only written down, never dialled
    try:
        script = "import sys; print(open(sys.argv[1], 'rb').read().decode(), end='')"
        read = subprocess.run([sys.executable, "-c", script, str(held.path("admin.key"))], capture_output=True)
        assert read.stdout == FILES["admin.key"]
        config = json.loads(held.path(KUBECONFIG).read_bytes())
        assert config["clusters"][0]["cluster"]["server"] == "https://apiserver.test:6443"
        assert os.readlink(held.path("ca.crt")).startswith("/memfd:pytest-single-k8s-ca.crt")  # on no disk
    finally:
        held.close()


def test_they_go_at_close():
    held = Credentials(FILES, "https://127.0.0.1:1")
    path = held.path("admin.key")
    held.close()
    assert not path.exists()


def test_missing_files_are_named():
    with pytest.raises(SingleK8sError, match="lack admin.key"):
        Credentials({name: content for name, content in FILES.items() if name != "admin.key"}, "https://127.0.0.1:1")


def test_a_kept_cluster_s_kubeconfig_is_saved_privately_and_forgotten(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTEST_SINGLE_K8S_CACHE", str(tmp_path))
    held = Credentials(FILES, "https://127.0.0.1:1")
    try:
        path = credentials.save("abcd1234", held)
    finally:
        held.close()
    assert path == tmp_path / "kubeconfigs" / "abcd1234.kubeconfig"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert json.loads(path.read_text())["users"][0]["name"] == "admin"
    credentials.forget("abcd1234")
    assert not path.exists()
