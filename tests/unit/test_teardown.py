"""The one teardown plan: its order, its path check, and its executor against a recording fake engine."""

import json
import threading
from pathlib import Path

import pytest

from pytest_single_k8s.cluster import directory, pods, teardown
from pytest_single_k8s.cluster.names import KUBELET, PROXY
from pytest_single_k8s.engine import labels
from pytest_single_k8s.errors import SingleK8sError

DIRECTORY = "/tmp/pytest-single-k8s-abcd1234-x1y2"
DIRECTORY_PATH = Path(DIRECTORY)


class FakeContainer:
    def __init__(self, engine, name, container_labels):
        self.engine, self.name, self.labels = engine, name, container_labels

    def remove(self, force, v):
        assert force
        assert v
        self.engine.record("remove", self.name)
        self.engine.containers_by_name.pop(self.name, None)


class FakeEngine:
    """Records, in order, every listing and removal; `on_remove` lets a test add containers meanwhile."""

    def __init__(self):
        self.events = []
        self.containers_by_name = {}
        self.lock = threading.Lock()
        self.containers = self

    def record(self, *event):
        with self.lock:
            self.events.append(event)

    def add(self, name, **container_labels):
        self.containers_by_name[name] = FakeContainer(self, name, container_labels)

    def list(self, filters, **options):
        assert options == {"all": True, "ignore_removed": True}, "stopped containers must go too"
        self.record("list", json.dumps(filters, sort_keys=True))
        return [
            x
            for x in list(self.containers_by_name.values())
            if all(_matches(x.labels, label) for label in filters["label"])
        ]


def _matches(container_labels, label):
    key, _, value = label.partition("=")
    return key in container_labels and (not value or container_labels[key] == value)


def test_the_plan_removes_node_agents_then_pods_and_the_rest_then_cleans_the_host_then_the_reaper():
    stages = teardown.plan("abcd1234", DIRECTORY_PATH)
    ours = f"{labels.CLUSTER_LABEL}=abcd1234"
    assert [stage.remove for stage in stages] == [
        (
            {"label": [ours, f"{labels.COMPONENT_LABEL}={KUBELET}"]},
            {"label": [ours, f"{labels.COMPONENT_LABEL}={PROXY}"]},
        ),
        ({"label": [ours]},),
        (),
        ({"label": [f"{labels.HELPER_LABEL}=abcd1234"]}, {"label": [f"{labels.REAPER_LABEL}=abcd1234"]}),
    ]
    assert [stage.pods_of for stage in stages] == [(), (pods.OUR_SANDBOXES,), (), ()]
    assert {"label": [f"{labels.LABEL}=pause", labels.POD_UID_LABEL]} == pods.OUR_SANDBOXES
    assert [stage.host for stage in stages] == [(), (), ("with-host-iptables", "host-cleanup", DIRECTORY), ()]


def test_the_reaper_gets_the_same_plan_as_json():
    stages = teardown.plan("abcd1234", DIRECTORY_PATH)
    as_json = json.loads(json.dumps(teardown.as_json(stages)))
    assert [(tuple(s["remove"]), tuple(s["pods_of"]), s["pod_label"], tuple(s["host"])) for s in as_json["stages"]] == [
        (stage.remove, stage.pods_of, labels.POD_UID_LABEL, stage.host) for stage in stages
    ]


def test_each_group_is_listed_only_when_its_turn_comes(monkeypatch, tmp_path):
    engine = FakeEngine()
    cluster = {labels.CLUSTER_LABEL: "abcd1234"}
    engine.add("kubelet", **cluster, **{labels.COMPONENT_LABEL: KUBELET})
    engine.add("kube-proxy", **cluster, **{labels.COMPONENT_LABEL: PROXY})
    engine.add("apiserver", **cluster, **{labels.COMPONENT_LABEL: "kube-apiserver"})
    engine.add("reaper", **{labels.REAPER_LABEL: "abcd1234"})
    sandbox = {labels.LABEL: "pause"}  # our pause image's label, which its containers inherit
    engine.add("old-sandbox", **sandbox, **{labels.POD_UID_LABEL: "1"})
    engine.add("old-pod", **{labels.POD_UID_LABEL: "1"})
    engine.add("foreign-sandbox", **{labels.POD_UID_LABEL: "9"})  # another Kubernetes' pod: never ours to touch
    engine.add("foreign-pod", **{labels.POD_UID_LABEL: "9"})
    original_remove = FakeContainer.remove

    def remove_and_race(self, force, v):
        original_remove(self, force, v)
        if self.name == "kubelet":  # a pod the kubelet started in its last moment
            engine.add("late-sandbox", **sandbox, **{labels.POD_UID_LABEL: "2"})
            engine.add("late-pod", **{labels.POD_UID_LABEL: "2"})

    monkeypatch.setattr(FakeContainer, "remove", remove_and_race)
    host_calls = []

    def run_script(*args, **options):
        host_calls.append(args[3])
        engine.record("host", args[3][1])

    monkeypatch.setattr(teardown, "run_script", run_script)
    cluster_dir = tmp_path / "pytest-single-k8s-abcd1234-x"
    (cluster_dir / "pki").mkdir(parents=True)

    teardown.execute(engine, "abcd1234", cluster_dir, "k:1")

    done = [name for kind, name in engine.events if kind in ("remove", "host")]
    assert done.index("host-cleanup") > done.index("apiserver")  # the host script after every pod and component
    assert done.index("host-cleanup") > done.index("late-pod")
    removed = [name for kind, name in engine.events if kind == "remove"]
    assert set(removed[:2]) == {"kubelet", "kube-proxy"}
    assert set(removed[2:7]) == {"old-sandbox", "old-pod", "late-sandbox", "late-pod", "apiserver"}
    assert removed[7:] == ["reaper"]
    assert host_calls == [["with-host-iptables", "host-cleanup", str(cluster_dir)]]
    assert set(engine.containers_by_name) == {"foreign-sandbox", "foreign-pod"}
    assert not cluster_dir.exists()


def test_every_stage_runs_even_if_one_fails(monkeypatch, tmp_path):
    engine = FakeEngine()
    engine.add("reaper", **{labels.REAPER_LABEL: "abcd1234"})

    def failing_script(*args, **options):
        raise SingleK8sError("host-cleanup could not clean up the host")

    monkeypatch.setattr(teardown, "run_script", failing_script)
    with pytest.raises(SingleK8sError, match="host-cleanup"):
        teardown.execute(engine, "abcd1234", tmp_path / "pytest-single-k8s-abcd1234-x", "k:1")
    assert engine.containers_by_name == {}  # the reaper went after the failed stage


@pytest.mark.parametrize(
    "path",
    ["/tmp/pytest-single-k8s-abcd1234-x", "/var/tmp/pytest-single-k8s-1", "/home/me/tmp/pytest-single-k8s-ab-cd"],
)
def test_cluster_directories_pass_the_path_check(path):
    assert str(directory.checked(path)) == path


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/",
        "/tmp",
        "/pytest-single-k8s-x",
        "tmp/pytest-single-k8s-x",
        "/tmp/../pytest-single-k8s-x",
        "/tmp/pytest-single-k8s-x/..",
        "/tmp/./pytest-single-k8s-x",
        "/tmp//pytest-single-k8s-x",
        "/tmp/pytest-single-k8s-x/",
        "/home/me",
        "/tmp/pytest-single-k8s-x/../../etc",
        "/tmp/other-pytest-single-k8s-x",
    ],
)
def test_the_path_check_refuses_dot_dot_and_foreign_paths(path):
    with pytest.raises(SingleK8sError, match="refusing .* as a cluster directory"):
        directory.checked(path)


def test_a_foreign_directory_gets_no_host_clean_up_but_the_containers_still_go(monkeypatch):
    assert [stage.host for stage in teardown.plan("abcd1234", None)] == [(), (), (), ()]
    engine = FakeEngine()
    engine.add("apiserver", **{labels.CLUSTER_LABEL: "abcd1234", labels.COMPONENT_LABEL: "kube-apiserver"})
    host_calls = []
    monkeypatch.setattr(teardown, "run_script", lambda *args, **options: host_calls.append(args[3]))
    with pytest.raises(SingleK8sError, match="refusing '/tmp/../etc/pytest-single-k8s-x' as a cluster directory"):
        teardown.execute(engine, "abcd1234", "/tmp/../etc/pytest-single-k8s-x", "k:1")
    assert engine.containers_by_name == {}
    assert host_calls == []  # nothing unmounted or deleted under a path that is not ours
