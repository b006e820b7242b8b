"""Kept clusters: the settings' fingerprint, the words for a difference; the report's error lines."""

import dataclasses
import json

import pytest

from pytest_single_k8s.cluster import diagnostics, kept, specs
from pytest_single_k8s.engine.labels import KEPT_LABEL, LEASE_LABEL

from .test_components import plan


def as_state(cluster_plan):
    return json.loads(json.dumps(dataclasses.asdict(cluster_plan), default=str))


def test_the_fingerprint_follows_what_a_session_asks_for_and_nothing_else():
    base = plan()
    assert base.fingerprint() == plan(cluster_id="other", owner="h:2:3", network_ip="10.0.0.9").fingerprint()
    assert base.fingerprint() == dataclasses.replace(base, keep=True).fingerprint()
    assert base.fingerprint() != plan(apiserver_host_port=16443).fingerprint()
    assert base.fingerprint() != plan(extra_args={"kubelet": ("--v=2",)}).fingerprint()
    assert base.fingerprint() != plan(images={**base.images, "kubernetes": "k:other"}).fingerprint()


def test_only_a_kept_plan_labels_its_containers_as_kept():
    assert KEPT_LABEL not in plan().labels("kubelet")
    kept_plan = plan(keep=True)
    assert kept_plan.labels("kubelet")[KEPT_LABEL] == kept_plan.fingerprint()


@pytest.mark.parametrize(
    ("wanted", "said"),
    [
        (plan(version="v1.36.3"), "it runs Kubernetes v1.37.2, this session asks for v1.36.3"),
        (plan(images={"kubernetes": "k:2", "etcd": "e:1", "pause": "p:1"}), "its images were built from other inputs"),
        (plan(apiserver_host_port=16443), "its apiserver port setting is free"),
        (plan(extra_args={"kubelet": ("--v=2",)}), "its extra arguments are none"),
    ],
)
def test_a_difference_is_said_in_words(wanted, said):
    assert said in kept.differences(as_state(plan()), as_state(wanted))


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('E1126 04:38:32.251581    4226 pod_workers.go:1338] "Error syncing pod"', True),
        ('I1126 04:38:32.251581    4226 server.go:1] "Starting"', False),
        ('{"level":"error","ts":"2026-11-26T04:38:32Z","msg":"lost leader"}', True),
        ('{"level":"info","msg":"ready"}', False),
        ('time="2026-11-26T04:38:32Z" level=error msg="failed"', True),
        ("Everything is fine, no Error here", False),
    ],
)
def test_error_lines_of_klog_etcd_and_logrus(line, error):
    assert bool(diagnostics.ERROR_LINE.search(line)) is error


def test_a_spent_budget_leaves_the_rest_out_and_a_failing_step_is_said():
    budget = diagnostics.Budget(seconds=60)

    def failing() -> str:
        raise ZeroDivisionError("division by zero")

    assert budget.run("the pods", failing).startswith("(could not read the pods: ZeroDivisionError")
    budget.ends = 0
    assert budget.run("the events", lambda: "never").startswith("(left out: ")


def test_a_kept_clusters_reaper_watches_no_lease():
    for keep, leases in ((False, f"{LEASE_LABEL}=abcd1234"), (True, "")):
        spec = specs.reaper(plan(keep=keep), {"stages": []})
        assert json.loads(spec.command[1])["leases"] == leases
        assert (KEPT_LABEL in spec.labels) is keep
