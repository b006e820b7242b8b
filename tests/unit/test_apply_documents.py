"""What k8s_apply reads from a manifest: paths, YAML strings, dicts, lists, `kind: List`."""

import pytest

from pytest_single_k8s.cluster.apply import documents
from pytest_single_k8s.errors import SingleK8sError

CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}
TWO = """apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
---
apiVersion: v1
kind: Secret
metadata: {name: b}
"""


def names(items):
    return [(item["kind"], item["metadata"]["name"]) for item in items]


def test_a_yaml_string_with_many_documents_and_empty_ones():
    assert names(documents(TWO)) == [("ConfigMap", "a"), ("Secret", "b")]


def test_a_dict_a_list_and_a_kind_list():
    assert names(documents(CONFIG_MAP)) == [("ConfigMap", "a")]
    assert names(documents([CONFIG_MAP, CONFIG_MAP])) == [("ConfigMap", "a")] * 2
    assert names(documents({"apiVersion": "v1", "kind": "List", "items": [CONFIG_MAP]})) == [("ConfigMap", "a")]


def test_a_file_and_a_directory_in_name_order(tmp_path):
    (tmp_path / "b.yaml").write_text(TWO)
    (tmp_path / "a.json").write_text('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}')
    (tmp_path / "notes.txt").write_text("not a manifest")
    assert names(documents(tmp_path / "b.yaml")) == [("ConfigMap", "a"), ("Secret", "b")]
    assert names(documents(str(tmp_path))) == [("Namespace", "n"), ("ConfigMap", "a"), ("Secret", "b")]


def test_a_missing_path_and_a_non_object_are_named(tmp_path):
    with pytest.raises(SingleK8sError, match="no such file or directory: .*missing.yaml"):
        documents(str(tmp_path / "missing.yaml"))
    with pytest.raises(SingleK8sError, match="not a Kubernetes object"):
        documents("just: a mapping\nwithout: kind\n")
