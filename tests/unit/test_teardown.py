"""The one teardown plan: its order, its path check, and its executor against a recording fake engine."""

import dataclasses
import json
import threading
from pathlib import Path

import docker.errors
import pytest

from pytest_single_k8s.cluster import directory, teardown
from pytest_single_k8s.cluster.names import KUBELET, PROXY
from pytest_single_k8s.engine import labels
from pytest_single_k8s.errors import SingleK8sError

DIRECTORY = "/tmp/pytest-single-k8s-abcd1234-x1y2"
DIRECTORY_PATH = Path(DIRECTORY)


class FakeContainer:
    def __init__(self, engine, name, container_labels):
        self.engine, self.name, self.labels = engine, name, container_labels
        self.id = name

    def remove(self, force, v):
        assert force
        assert v
        self.engine.record("remove", self.name)
        self.engine.containers_by_name.pop(self.name, None)


class FakeImages:
    def __init__(self, engine):
        self.engine = engine
        self.by_id: dict[str, dict[str, str]] = {}

    def list(self, filters):
        self.engine.record("list images", json.dumps(filters, sort_keys=True))
        return [FakeContainer(self.engine, i, x) for i, x in self.by_id.items() if _all(x, filters["label"])]

    def remove(self, image_id):
        self.engine.record("remove image", image_id)
        del self.by_id[image_id]


class FakeEngine:
    """Records, in order, every listing and removal; `on_remove` lets a test add containers meanwhile."""

    def __init__(self):
        self.events = []
        self.containers_by_name = {}
        self.lock = threading.Lock()
        self.containers = self
        self.images = FakeImages(self)

    def record(self, *event):
        with self.lock:
            self.events.append(event)

    def add(self, name, **container_labels):
        self.containers_by_name[name] = FakeContainer(self, name, container_labels)

    def get(self, name):
        if name not in self.containers_by_name:
            raise docker.errors.NotFound(name)
        return self.containers_by_name[name]

    def create(self, image, command, **options):
        self.record("create", options["name"])
        self.add(options["name"], **options["labels"])

    def list(self, filters, **options):
        assert options == {"all": True, "ignore_removed": True}, "stopped containers must go too"
        self.record("list", json.dumps(filters, sort_keys=True))
        return [x for x in list(self.containers_by_name.values()) if _all(x.labels, filters["label"])]


def _all(container_labels, wanted):
    return all(_matches(container_labels, label) for label in wanted)


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
        # Sessions' leases after the reaper: it would take their end for a crash and tear down too.
        ({"label": [f"{labels.LEASE_LABEL}=abcd1234"]},),
    ]
    assert [stage.releases_engine for stage in stages] == [False, False, False, True, False]
    # This cluster's pods only: their sandboxes run the image that carries its id.
    assert [stage.pods_of for stage in stages] == [(), ({"label": [ours, labels.POD_UID_LABEL]},), (), (), ()]
    assert [stage.images for stage in stages] == [(), ({"label": [ours]},), (), (), ()]
    # And the pods' containers whose sandbox went first, by their log files in the cluster's directory.
    assert [stage.logs_under for stage in stages] == [(), (f"{DIRECTORY}/pod-logs",), (), (), ()]
    assert stages[1].log_label == "io.kubernetes.container.logpath"
    cleanup = ("with-host-iptables", "host-cleanup", DIRECTORY, "abcd1234")
    assert [stage.host for stage in stages] == [(), (), cleanup, (), ()]
    assert stages[2].holding == "abcd1234"
    assert stages[2].host_not_holding == (*cleanup, "--directory-only")
    assert teardown.plan("abcd1234", DIRECTORY_PATH, holding="ef567890")[2].holding == "ef567890"


def test_the_reaper_gets_the_same_plan_as_json():
    stages = teardown.plan("abcd1234", DIRECTORY_PATH)
    record = teardown.record("abcd1234", DIRECTORY, "k:1", {labels.OWNER_LABEL: "h:1:2", "io.kubernetes.x": "y"})
    as_json = json.loads(json.dumps(teardown.as_json(stages, record)))
    fields = [field.name for field in dataclasses.fields(teardown.Stage)]
    assert [tuple(_tuple(s[field]) for field in fields) for s in as_json["stages"]] == [
        tuple(_tuple(getattr(stage, field)) for field in fields) for stage in stages
    ]
    assert as_json["record"] == {
        "name": "pytest-single-k8s-abcd1234-leftovers",
        "image": "k:1",
        "command": ["true"],
        "labels": {  # whose it was, where, and nothing of another container's labels
            labels.OWNER_LABEL: "h:1:2",
            labels.CLUSTER_LABEL: "abcd1234",
            labels.COMPONENT_LABEL: "leftovers",
            labels.DIRECTORY_LABEL: DIRECTORY,
        },
    }


def _tuple(value):
    return tuple(value) if isinstance(value, list) else value


def _engine_with_a_cluster(**reaper_labels):
    engine = FakeEngine()
    cluster = {labels.CLUSTER_LABEL: "abcd1234"}
    engine.add("kubelet", **cluster, **{labels.COMPONENT_LABEL: KUBELET})
    engine.add("kube-proxy", **cluster, **{labels.COMPONENT_LABEL: PROXY})
    engine.add("apiserver", **cluster, **{labels.COMPONENT_LABEL: "kube-apiserver"})
    engine.add("a-session-s-lease", **{labels.LEASE_LABEL: "abcd1234"})
    engine.add(labels.REAPER_NAME, **{labels.REAPER_LABEL: "abcd1234", **reaper_labels})
    return engine


def test_each_group_is_listed_only_when_its_turn_comes(monkeypatch):
    engine = _engine_with_a_cluster()
    # Our sandboxes inherit the pause image's label and the cluster's sandbox image's id.
    sandbox = {labels.LABEL: "pause", labels.CLUSTER_LABEL: "abcd1234"}
    engine.add("old-sandbox", **sandbox, **{labels.POD_UID_LABEL: "1"})
    engine.add("old-pod", **{labels.POD_UID_LABEL: "1"})
    engine.images.by_id["sandbox-image"] = {labels.LABEL: "pause", labels.CLUSTER_LABEL: "abcd1234"}
    engine.images.by_id["pause-image"] = {labels.LABEL: "pause"}
    # Another cluster's pod (its sandbox from its own image) and another Kubernetes' pod: never ours to touch.
    engine.add("other-sandbox", **{labels.LABEL: "pause", labels.CLUSTER_LABEL: "ef567890", labels.POD_UID_LABEL: "8"})
    engine.add("other-pod", **{labels.POD_UID_LABEL: "8"})
    engine.add("foreign-sandbox", **{labels.POD_UID_LABEL: "9"})
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
    cluster_dir = "/tmp/pytest-single-k8s-abcd1234-x"  # the engine host's: only host-cleanup touches it

    teardown.execute(engine, "abcd1234", cluster_dir, "k:1")

    done = [name for kind, name in engine.events if kind in ("remove", "host", "remove image")]
    assert done.index("host-cleanup") > done.index("apiserver")  # the host script after every pod and component
    assert done.index("host-cleanup") > done.index("late-pod")
    assert done.index("sandbox-image") > done.index("late-sandbox")  # the image once its containers are gone
    removed = [name for kind, name in engine.events if kind == "remove"]
    assert set(removed[:2]) == {"kubelet", "kube-proxy"}
    # A sandbox matches both as this cluster's container and as its pod's: removed twice, at once.
    assert set(removed[2:-2]) == {"old-sandbox", "old-pod", "late-sandbox", "late-pod", "apiserver"}
    assert removed[-2:] == [labels.REAPER_NAME, "a-session-s-lease"]  # the lock, then the sessions' leases
    assert host_calls == [["with-host-iptables", "host-cleanup", str(cluster_dir), "abcd1234"]]
    assert set(engine.containers_by_name) == {"other-sandbox", "other-pod", "foreign-sandbox", "foreign-pod"}
    assert set(engine.images.by_id) == {"pause-image"}


def test_a_failed_stage_leaves_a_record_before_the_engine_is_released(monkeypatch, tmp_path):
    engine = _engine_with_a_cluster(**{labels.OWNER_LABEL: "h:1:2"})

    def failing_script(*args, **options):
        raise SingleK8sError("host-cleanup could not clean up the host")

    monkeypatch.setattr(teardown, "run_script", failing_script)
    cluster_dir = tmp_path / "pytest-single-k8s-abcd1234-x"
    with pytest.raises(teardown.TeardownIncomplete, match="host-cleanup could not clean up the host") as failure:
        teardown.execute(engine, "abcd1234", cluster_dir, "k:1", {labels.OWNER_LABEL: "h:1:2"})
    assert "the next session, or `pytest-single-k8s down`, tries again" in str(failure.value)
    events = [name for kind, name in engine.events if kind in ("create", "remove")]
    record = "pytest-single-k8s-abcd1234-leftovers"
    assert events.index(record) < events.index(labels.REAPER_NAME)  # made while the engine was still held
    assert set(engine.containers_by_name) == {record}  # every other stage still ran
    assert engine.containers_by_name[record].labels == {
        labels.OWNER_LABEL: "h:1:2",
        labels.CLUSTER_LABEL: "abcd1234",
        labels.COMPONENT_LABEL: "leftovers",
        labels.DIRECTORY_LABEL: str(cluster_dir),
    }


@pytest.mark.parametrize("held_by", [None, "ef567890"])
def test_the_host_wide_clean_up_runs_only_while_the_cluster_holds_the_engine(monkeypatch, tmp_path, held_by):
    engine = _engine_with_a_cluster()
    del engine.containers_by_name[labels.REAPER_NAME]  # gone: an engine restart, `down` from another shell
    if held_by:
        engine.add(labels.REAPER_NAME, **{labels.REAPER_LABEL: held_by})  # another session has claimed since
    host_calls = []
    monkeypatch.setattr(teardown, "run_script", lambda *args, **options: host_calls.append(args[3]))
    cluster_dir = tmp_path / "pytest-single-k8s-abcd1234-x"
    with pytest.raises(teardown.TeardownIncomplete, match="host-wide clean-up .* was left alone"):
        teardown.execute(engine, "abcd1234", cluster_dir, "k:1")
    assert host_calls == [["with-host-iptables", "host-cleanup", str(cluster_dir), "abcd1234", "--directory-only"]]
    assert "pytest-single-k8s-abcd1234-leftovers" in engine.containers_by_name
    if held_by:
        assert labels.REAPER_NAME in engine.containers_by_name  # the other session's lock stays


def test_a_session_that_reaps_holds_the_engine_under_its_own_id(monkeypatch, tmp_path):
    engine = _engine_with_a_cluster()
    engine.containers_by_name[labels.REAPER_NAME].labels[labels.REAPER_LABEL] = "ef567890"  # the reaping session
    host_calls = []
    monkeypatch.setattr(teardown, "run_script", lambda *args, **options: host_calls.append(args[3]))
    cluster_dir = tmp_path / "pytest-single-k8s-abcd1234-x"
    teardown.execute(engine, "abcd1234", cluster_dir, "k:1", holding="ef567890")
    assert host_calls == [["with-host-iptables", "host-cleanup", str(cluster_dir), "abcd1234"]]
    assert labels.REAPER_NAME in engine.containers_by_name  # the reaping session's lock is not the reaped one's


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
    assert [stage.host for stage in teardown.plan("abcd1234", None)] == [(), (), (), (), ()]
    engine = FakeEngine()
    engine.add("apiserver", **{labels.CLUSTER_LABEL: "abcd1234", labels.COMPONENT_LABEL: "kube-apiserver"})
    host_calls = []
    monkeypatch.setattr(teardown, "run_script", lambda *args, **options: host_calls.append(args[3]))
    with pytest.raises(SingleK8sError, match="refusing '/tmp/../etc/pytest-single-k8s-x' as a cluster directory"):
        teardown.execute(engine, "abcd1234", "/tmp/../etc/pytest-single-k8s-x", "k:1")
    assert engine.containers_by_name == {}
    assert host_calls == []  # nothing unmounted or deleted under a path that is not ours


def test_ctrl_c_during_a_teardown_leaves_the_record_and_still_releases_the_engine(monkeypatch, tmp_path):
    engine = _engine_with_a_cluster()

    def interrupted(*args, **options):
        raise KeyboardInterrupt

    monkeypatch.setattr(teardown, "run_script", interrupted)
    with pytest.raises(KeyboardInterrupt):
        teardown.execute(engine, "abcd1234", tmp_path / "pytest-single-k8s-abcd1234-x", "k:1")
    assert set(engine.containers_by_name) == {"pytest-single-k8s-abcd1234-leftovers"}
