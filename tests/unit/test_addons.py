"""The addons as data: what each applies, the Corefile, the host's resolvers, the setting."""

import pytest

from pytest_single_k8s.cluster import addon_objects, addons, configs
from pytest_single_k8s.errors import SingleK8sError
from pytest_single_k8s.settings import resolve

from .test_components import plan

IMAGES = {
    "kubernetes": "k:1",
    "etcd": "e:1",
    "pause": "p:1",
    "coredns": "c:1",
    "local-path-provisioner": "l:1",
    "debian": "d:1",
}


def objects_of(name, addon_plan):
    return {(item["kind"], item["metadata"]["name"]): item for item in addons.ADDONS[name].objects(addon_plan)}


def test_dns_is_coredns_behind_kube_dns_at_the_kubelets_cluster_dns_address():
    dns_plan = plan(images=IMAGES, addons=("dns",), upstream_dns=("192.0.2.53",))
    objects = objects_of("dns", dns_plan)
    service = objects[("Service", "kube-dns")]
    assert service["spec"]["clusterIP"] == configs.kubelet(dns_plan)["clusterDNS"][0] == "10.96.0.10"
    deployment = objects[("Deployment", "coredns")]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "c:1"
    assert "forward . 192.0.2.53" in objects[("ConfigMap", "coredns")]["data"]["Corefile"]


def test_without_dns_the_kubelet_has_no_cluster_dns():
    assert "clusterDNS" not in configs.kubelet(plan(addons=("storage",)))


def test_storage_provisions_into_the_clusters_directory_with_our_helper_image():
    storage_plan = plan(images=IMAGES, addons=("storage",))
    objects = {
        (item["kind"], item["metadata"]["name"]): item for item in addons.ADDONS["storage"].objects(storage_plan)
    }
    config = objects[("ConfigMap", "local-path-config")]["data"]
    assert f'"{storage_plan.directory}/volumes"' in config["config.json"]
    assert '"image": "d:1"' in config["helperPod.yaml"]
    storage_class = objects[("StorageClass", "local-path")]
    assert storage_class["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert storage_class["reclaimPolicy"] == "Delete"


def test_with_no_upstream_cluster_dns_answers_cluster_names_only():
    assert "forward" not in addon_objects.corefile(())
    assert "kubernetes cluster.local" in addon_objects.corefile(())


def test_the_engine_hosts_resolvers_skip_loopback_stubs():
    resolv = "# comment\nsearch example\nnameserver 10.0.0.2\nnameserver 127.0.0.53\nnameserver ::1\n"
    assert addons.resolvers(resolv) == ("10.0.0.2",)
    assert addons.resolvers("nameserver bogus\n") == ()
    assert addons.resolvers("") == ()


def test_each_addons_images_once():
    assert addons.images(("dns", "storage")) == ("coredns", "local-path-provisioner", "debian")
    assert addons.images(()) == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("dns,storage", ("dns", "storage")), ("storage", ("storage",)), ("none", ()), ("dns, dns", ("dns",))],
)
def test_the_addons_setting(value, expected):
    assert resolve({"addons": value}, {}).addons == expected


@pytest.mark.parametrize("value", ["dns,ingress", "", ","])
def test_unknown_addons_are_refused(value):
    with pytest.raises(SingleK8sError, match="--k8s-addons"):
        resolve({"addons": value}, {})


def test_the_addons_are_part_of_what_a_kept_cluster_is_matched_by():
    assert plan(addons=("dns",)).fingerprint() != plan(addons=()).fingerprint()


def test_kube_dns_sends_to_coredns_from_its_start_which_the_cluster_waits_for_on_corednss_own_ready_port():
    dns_plan = plan(images=IMAGES, addons=("dns",))
    objects = objects_of("dns", dns_plan)
    assert objects[("Service", "kube-dns")]["spec"]["publishNotReadyAddresses"] is True
    container = objects[("Deployment", "coredns")]["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["port"] == addon_objects.DNS_READY_PORT
    assert f"ready :{addon_objects.DNS_READY_PORT}\n" in objects[("ConfigMap", "coredns")]["data"]["Corefile"]
    pod_labels = objects[("Deployment", "coredns")]["spec"]["template"]["metadata"]["labels"]
    assert pod_labels == objects[("Service", "kube-dns")]["spec"]["selector"] == addon_objects.DNS_LABELS
    assert addons.ADDONS["dns"].serves is not addons.available
    assert addons.ADDONS["storage"].serves is addons.available


@pytest.mark.parametrize("name", ["dns", "storage"])
def test_each_addons_pod_is_made_bound_to_the_node_before_its_replica_set_and_deployment_which_adopt_it(name):
    objects = addons.ADDONS[name].objects(plan(images=IMAGES, addons=(name,)))
    kinds = [item["kind"] for item in objects]
    pod, replica_set, deployment = (objects[kinds.index(kind)] for kind in ("Pod", "ReplicaSet", "Deployment"))
    assert kinds.index("Pod") < kinds.index("ReplicaSet") < kinds.index("Deployment")
    template = deployment["spec"]["template"]
    hashed = {**template["metadata"]["labels"], addon_objects.TEMPLATE_HASH_LABEL: addon_objects.TEMPLATE_HASH}
    # The ReplicaSet is the one the Deployment's controller takes for its own: the same template but for the hash.
    assert replica_set["spec"]["template"] == {"metadata": {"labels": hashed}, "spec": template["spec"]}
    assert replica_set["spec"]["selector"]["matchLabels"] == replica_set["metadata"]["labels"] == hashed
    # The pod is the ReplicaSet's (its labels) and the kubelet's at once (bound), with no owner the
    # ReplicaSet would have to match: it adopts it.
    assert pod["metadata"]["labels"] == hashed
    assert "ownerReferences" not in pod["metadata"]
    assert pod["spec"] == {**template["spec"], "nodeName": plan().node_name}
    assert "priorityClassName" not in pod["spec"]  # its class is made by the apiserver after the pod
