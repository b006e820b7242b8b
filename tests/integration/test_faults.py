"""Faults users want to survive: components restarted or stopped mid-session."""

import pytest
from kubernetes import client

from pytest_single_k8s.cluster import names as c
from pytest_single_k8s.common.waiting import wait_for

pytestmark = pytest.mark.k8s


def create_sleeper(core, namespace, images, name="sleep"):
    container = client.V1Container(name=name, image=images.ref("debian"), command=["sleep", "3600"])
    core.create_namespaced_pod(
        namespace, client.V1Pod(metadata=client.V1ObjectMeta(name=name), spec=client.V1PodSpec(containers=[container]))
    )


def phase_is(core, namespace, name, phase):
    def check():
        current = core.read_namespaced_pod(name, namespace)
        assert current.status.phase == phase, current.status.phase
        return current

    return check


def test_apiserver_restart_keeps_data_and_the_client_recovers(k8s_cluster, k8s_client, k8s_namespace):
    core = client.CoreV1Api(k8s_client)
    core.create_namespaced_config_map(
        k8s_namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="kept"), data={"answer": "42"})
    )
    k8s_cluster.restart(c.APISERVER)
    assert core.read_namespaced_config_map("kept", k8s_namespace).data == {"answer": "42"}


def test_kubelet_restart_keeps_running_pods_running(k8s_cluster, k8s_client, k8s_namespace, k8s_images):
    core = client.CoreV1Api(k8s_client)
    create_sleeper(core, k8s_namespace, k8s_images)
    before = wait_for(phase_is(core, k8s_namespace, "sleep", "Running"), "the pod to run", 60)
    container_id = before.status.container_statuses[0].container_id
    k8s_cluster.restart(c.KUBELET)
    after = wait_for(phase_is(core, k8s_namespace, "sleep", "Running"), "the pod to run", 60)
    assert after.status.container_statuses[0].container_id == container_id
    assert after.status.container_statuses[0].restart_count == 0
    state = k8s_cluster.docker.containers.get(container_id.removeprefix("docker://")).attrs["State"]
    assert state["Running"]


def test_pods_wait_for_a_stopped_scheduler_and_run_once_it_starts(k8s_cluster, k8s_client, k8s_namespace, k8s_images):
    core = client.CoreV1Api(k8s_client)
    k8s_cluster.stop(c.SCHEDULER)
    try:
        create_sleeper(core, k8s_namespace, k8s_images, "pending")
        with pytest.raises(TimeoutError):
            wait_for(lambda: _assert_scheduled(core, k8s_namespace, "pending"), "scheduling", 3)
    finally:
        k8s_cluster.start(c.SCHEDULER)
    wait_for(phase_is(core, k8s_namespace, "pending", "Running"), "the pod to run", 60)


def _assert_scheduled(core, namespace, name):
    assert core.read_namespaced_pod(name, namespace).spec.node_name
