"""The addons on the session's cluster: cluster DNS and the default StorageClass, used as workloads use them."""

import functools
from pathlib import Path

import pytest
from kubernetes import client

from pytest_single_k8s.cluster.addon_objects import DNS_LABELS, STORAGE_LABELS
from pytest_single_k8s.cluster.addons import label_selector
from pytest_single_k8s.cluster.directory import VOLUMES
from pytest_single_k8s.common.waiting import wait_for

from ..example.test_nginx import pod, run_to_completion, wait_for_phase
from .sessions import EXAMPLE, EXAMPLE_TESTS, inner


@pytest.mark.k8s
def test_pods_resolve_cluster_names_and_reach_a_service_by_name(k8s_client, k8s_namespace, k8s_images):
    core = client.CoreV1Api(k8s_client)
    core.create_namespaced_pod(k8s_namespace, pod("web", k8s_images.ref("nginx"), labels={"app": "web"}))
    core.create_namespaced_service(
        k8s_namespace,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1ServiceSpec(selector={"app": "web"}, ports=[client.V1ServicePort(port=80)]),
        ),
    )
    wait_for_phase(core, k8s_namespace, "web", ("Running",))
    full = f"web.{k8s_namespace}.svc.cluster.local"
    script = (
        "set -e; getent hosts kubernetes.default.svc.cluster.local; getent hosts web; "
        f"getent hosts {full}; curl -sS --retry 20 --retry-all-errors --retry-delay 1 http://web/"
    )
    output = run_to_completion(core, k8s_namespace, "ask", k8s_images.ref("debian"), ["sh", "-c", script])
    kubernetes_line, short_line, full_line = output.splitlines()[:3]
    service = core.read_namespaced_service("web", k8s_namespace).spec
    assert service is not None
    service_ip = service.cluster_ip
    assert kubernetes_line.split()[0] == "10.96.0.1"
    assert short_line.split() == [service_ip, full]
    assert full_line.split()[0] == service_ip
    assert "Welcome to nginx!" in output


ADDON_DEPLOYMENTS = (
    ("kube-system", "coredns", DNS_LABELS),
    ("local-path-storage", "local-path-provisioner", STORAGE_LABELS),
)


def adopted(apps, core, namespace, name, labels):
    """Raises until the addon's Deployment is available through one ReplicaSet of its own, with one pod of that."""
    deployment = apps.read_namespaced_deployment(name, namespace)
    assert deployment.status.available_replicas == 1, deployment.status
    [replica_set] = apps.list_namespaced_replica_set(namespace, label_selector=label_selector(labels)).items
    [owner] = replica_set.metadata.owner_references
    assert (owner.kind, owner.uid, owner.controller) == ("Deployment", deployment.metadata.uid, True)
    assert replica_set.status.ready_replicas == 1
    [running] = core.list_namespaced_pod(namespace, label_selector=label_selector(labels)).items
    [owner] = running.metadata.owner_references
    assert (owner.kind, owner.uid, owner.controller) == ("ReplicaSet", replica_set.metadata.uid, True)


def ready_pods(core, namespace, labels):
    """The names of the Ready pods with these labels."""
    pods = core.list_namespaced_pod(namespace, label_selector=label_selector(labels)).items
    return [pod.metadata.name for pod in pods if any(
        c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])]  # fmt: skip


@pytest.mark.k8s
def test_each_addon_is_its_deployments_one_replica_set_and_pod_and_a_deleted_coredns_pod_comes_back(
    k8s_client, k8s_namespace, k8s_images
):
    apps, core = client.AppsV1Api(k8s_client), client.CoreV1Api(k8s_client)
    for namespace, name, labels in ADDON_DEPLOYMENTS:
        # Made by us bound to the node, then taken over by the controllers: no second ReplicaSet nor pod.
        wait_for(
            functools.partial(adopted, apps, core, namespace, name, labels), f"{namespace}/{name} to be its own", 60
        )

    [gone] = ready_pods(core, "kube-system", DNS_LABELS)
    core.delete_namespaced_pod(gone, "kube-system")

    def replaced():
        assert set(ready_pods(core, "kube-system", DNS_LABELS)) - {gone}

    wait_for(replaced, "a new CoreDNS pod to be Ready", 60)
    # Pods resolve names again (through the Service, once kube-proxy has the new pod's address).
    script = "for i in 1 2 3 4 5; do getent hosts kubernetes.default.svc.cluster.local && exit 0; sleep 1; done; exit 1"
    output = run_to_completion(core, k8s_namespace, "ask", k8s_images.ref("debian"), ["sh", "-c", script])
    assert output.split()[0] == "10.96.0.1", output


def volume_claim(name):
    return client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteOnce"], resources=client.V1VolumeResourceRequirements(requests={"storage": "1Mi"})
        ),
    )


def with_claim(name, image, command, claim):
    mounted = pod(name, image, command)
    mounted.spec.containers[0].volume_mounts = [client.V1VolumeMount(name="data", mount_path="/data")]
    mounted.spec.volumes = [
        client.V1Volume(
            name="data", persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(claim_name=claim)
        )
    ]
    return mounted


@pytest.mark.k8s
def test_a_claim_with_no_class_binds_keeps_data_between_pods_and_takes_it_along_when_deleted(
    k8s_cluster, k8s_client, k8s_namespace, k8s_images
):
    core, image = client.CoreV1Api(k8s_client), k8s_images.ref("debian")
    core.create_namespaced_persistent_volume_claim(k8s_namespace, volume_claim("data"))
    core.create_namespaced_pod(
        k8s_namespace, with_claim("writer", image, ["sh", "-c", "echo kept > /data/file"], "data")
    )
    assert wait_for_phase(core, k8s_namespace, "writer", ("Succeeded", "Failed")) == "Succeeded"
    claim = core.read_namespaced_persistent_volume_claim("data", k8s_namespace)
    assert claim.status is not None
    assert claim.spec is not None
    assert claim.status.phase == "Bound"
    assert claim.spec.storage_class_name == "local-path"
    core.create_namespaced_pod(k8s_namespace, with_claim("reader", image, ["cat", "/data/file"], "data"))
    assert wait_for_phase(core, k8s_namespace, "reader", ("Succeeded", "Failed")) == "Succeeded"
    assert core.read_namespaced_pod_log("reader", k8s_namespace).strip() == "kept"

    # The data sits in the cluster's directory on this host, and goes with the claim.
    volumes = k8s_cluster.plan.directory / VOLUMES
    [held] = [path for path in volumes.iterdir() if claim.spec.volume_name in path.name]
    assert (held / "file").read_text().strip() == "kept"
    for name in ("writer", "reader"):
        core.delete_namespaced_pod(name, k8s_namespace, grace_period_seconds=0)
    core.delete_namespaced_persistent_volume_claim("data", k8s_namespace)

    def removed():
        assert not held.exists(), f"{held} is still there"

    wait_for(removed, "the volume's data to be removed", 60)


WRITES_A_VOLUME = """
import pytest
from kubernetes import client
from tests.example.test_nginx import wait_for_phase
from tests.integration.test_addons import volume_claim, with_claim

@pytest.mark.k8s
def test_writes(k8s_cluster, k8s_client, k8s_namespace, k8s_images):
    core = client.CoreV1Api(k8s_client)
    core.create_namespaced_persistent_volume_claim(k8s_namespace, volume_claim("data"))
    writer = with_claim("writer", k8s_images.ref("debian"), ["sh", "-c", "echo kept > /data/file"], "data")
    core.create_namespaced_pod(k8s_namespace, writer)
    assert wait_for_phase(core, k8s_namespace, "writer", ("Succeeded",)) == "Succeeded"
    print("VOLUMES", k8s_cluster.plan.directory / "volumes", flush=True)
"""


@pytest.mark.own_cluster
def test_teardown_takes_the_provisioned_data_along(pytester, k8s_images, clean_host):
    pytester.makepyfile(WRITES_A_VOLUME)
    pytester.syspathinsert(Path(__file__).parents[2])
    result = inner(pytester, "-s", "--k8s-version", k8s_images.versions.kubernetes)
    result.assert_outcomes(passed=1)
    volumes = Path(result.stdout.str().split("VOLUMES ", 1)[1].split()[0])
    assert not volumes.exists()
    assert clean_host() == []


@pytest.mark.own_cluster
def test_with_no_addons_the_cluster_is_its_components_and_the_example_passes(pytester, k8s_images, clean_host):
    pytester.makepyfile(
        test_nothing_else="""
import pytest
from kubernetes import client

@pytest.mark.k8s
def test_no_addon_runs(k8s_client):
    assert client.AppsV1Api(k8s_client).list_deployment_for_all_namespaces().items == []
    assert client.StorageV1Api(k8s_client).list_storage_class().items == []
"""
    )
    result = inner(pytester, "--k8s-version", k8s_images.versions.kubernetes, "--k8s-addons", "none", ".", str(EXAMPLE))
    result.assert_outcomes(passed=EXAMPLE_TESTS + 1)
