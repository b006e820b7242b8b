import io
import tarfile
from pathlib import Path

import pytest

from pytest_single_k8s.cluster import certificates, configs, specs
from pytest_single_k8s.cluster import names as c
from pytest_single_k8s.cluster.credentials import CLIENT_FILES
from pytest_single_k8s.cluster.plan import ClusterPlan
from pytest_single_k8s.engine import labels
from pytest_single_k8s.engine.containers import ContainerSpec, archive


def plan(version="v1.37.2", **overrides):
    values = {
        "cluster_id": "abcd1234",
        "directory": Path("/tmp/pytest-single-k8s-abcd1234-x"),
        "version": version,
        "images": {"kubernetes": "k:1", "etcd": "e:1", "pause": "p:1"},
        "owner": "host:1:2",
        "user": "1000",
        "network_ip": "172.17.0.2",
        "node_ip": "172.17.0.1",
        "pod_cidr": "172.17.0.0/16",
        "cgroup_driver": "cgroupfs",
        "cgroup_version": 1,
        "docker_socket": "/var/run/docker.sock",
        "docker_root": "/var/lib/docker",
    }
    return ClusterPlan(**{**values, **overrides})


def by_component(p):
    return specs.components(p)


def test_seven_components_and_the_network_holder_all_labelled():
    specs = by_component(plan())
    assert set(specs) == {*c.COMPONENTS, c.NETWORK}
    assert plan().labels(c.ETCD) == {
        labels.CLUSTER_LABEL: "abcd1234",
        labels.COMPONENT_LABEL: c.ETCD,
        labels.OWNER_LABEL: "host:1:2",
        labels.USER_LABEL: "1000",
        labels.DIRECTORY_LABEL: "/tmp/pytest-single-k8s-abcd1234-x",
    }


def test_the_reaper_says_whose_the_cluster_is_as_every_component_does():
    kept_plan = plan(keep=True)
    reaper = specs.reaper(kept_plan, {"stages": []})
    assert reaper.labels == {labels.REAPER_LABEL: "abcd1234", **kept_plan.whose()}
    assert kept_plan.labels(c.ETCD).items() >= kept_plan.whose().items()
    assert kept_plan.whose()[labels.USER_LABEL] == "1000"


def test_only_the_apiserver_is_published_and_only_on_loopback():
    specs = by_component(plan(apiserver_host_port=16443))
    assert specs[c.NETWORK].ports == {"6443/tcp": ("127.0.0.1", 16443)}
    assert [s.component for s in specs.values() if s.ports] == [c.NETWORK]
    for component in (c.ETCD, c.APISERVER, c.SCHEDULER, c.CONTROLLER_MANAGER, c.KUBECTL):
        assert specs[component].network_mode == "container:pytest-single-k8s-abcd1234-network"


def test_apiserver_is_secured_as_a_real_cluster():
    command = by_component(plan())[c.APISERVER].command
    assert "--authorization-mode=Node,RBAC" in command
    assert "--enable-admission-plugins=NodeRestriction" in command
    assert "--advertise-address=172.17.0.2" in command
    assert not [flag for flag in command if "insecure" in flag]


def test_etcd_requires_client_certificates_and_skips_fsync():
    command = by_component(plan())[c.ETCD].command
    assert "--client-cert-auth=true" in command
    assert "--peer-client-cert-auth=true" in command
    assert "--unsafe-no-fsync=true" in command
    assert all(
        url.startswith("https://127.0.0.1")
        for flag in command
        if "-urls=" in flag
        for url in flag.split("=", 1)[1].split(",")
    )


@pytest.mark.parametrize(("version", "gated"), [("v1.35.4", False), ("v1.36.3", True), ("v1.37.2", True)])
def test_websocket_gate_only_where_it_exists(version, gated):
    p = plan(version)
    assert ("--feature-gates=ExtendWebSocketsToKubelet=false" in by_component(p)[c.APISERVER].command) == gated
    assert (configs.kubelet(p)["featureGates"] == {"ExtendWebSocketsToKubelet": False}) == gated


def test_kubelet_keeps_local_images_and_shares_its_root_with_the_engine():
    p = plan()
    config = configs.kubelet(p)
    assert config["imageGCHighThresholdPercent"] == 100
    assert config["evictionHard"] == {"imagefs.available": "0%", "nodefs.available": "0%", "nodefs.inodesFree": "0%"}
    assert config["failCgroupV1"] is False
    assert config["authentication"]["anonymous"]["enabled"] is False
    kubelet = by_component(p)[c.KUBELET]
    assert f"{p.kubelet_root}:{p.kubelet_root}:rshared" in kubelet.volumes
    assert kubelet.privileged
    assert kubelet.pid_mode == "host"
    assert kubelet.network_mode == "host"
    # Its own sandbox image (our pause image with the cluster id), so that teardown finds only its pods.
    assert f"--pod-infra-container-image={p.sandbox_image}" in kubelet.command
    assert p.sandbox_image == f"localhost/pytest-single-k8s/sandbox:{p.cluster_id}"


def test_kube_proxy_leaves_host_sysctls_alone_and_serves_node_ports_on_the_bridge_only():
    config = configs.proxy(plan())
    assert config["mode"] == "iptables"
    assert config["nodePortAddresses"] == ["172.17.0.1/32"]
    assert config["conntrack"]["maxPerCore"] == 0
    assert config["iptables"]["localhostNodePorts"] is False


def test_extra_args_reach_their_component():
    specs = by_component(plan(extra_args={c.APISERVER: ("--v=4",), c.KUBELET: ("--v=3",)}))
    assert specs[c.APISERVER].command[-1] == "--v=4"
    assert specs[c.KUBELET].command[-1] == "--v=3"


def test_with_docker_s_systemd_driver_the_kubelet_reaches_systemd_and_sees_the_host_s_cgroups():
    p = plan(cgroup_driver="systemd", cgroup_version=2)
    kubelet = by_component(p)[c.KUBELET]
    assert kubelet.cgroupns == "host"
    assert "/run/systemd:/run/systemd:rw" in kubelet.volumes
    assert configs.kubelet(p)["cgroupDriver"] == "systemd"
    assert "failCgroupV1" not in configs.kubelet(p)  # only where the host really is v1


def test_with_cgroupfs_the_kubelet_touches_nothing_of_systemd():
    kubelet = by_component(plan(cgroup_driver="cgroupfs", cgroup_version=2))[c.KUBELET]
    assert kubelet.cgroupns == "host"
    assert not [volume for volume in kubelet.volumes if "systemd" in volume]


def test_containers_bind_only_what_exists_and_take_no_proxy_from_the_user_s_docker_config():
    spec = ContainerSpec("n", "i", [], {}, volumes=["/a:/b:ro", "/c:/c:rshared", "/d:/e:rw"])
    options = spec.options()
    # Mounts, not -v binds: a missing source fails the start instead of becoming an empty directory.
    assert [dict(mount) for mount in options["mounts"]] == [
        {"Target": "/b", "Source": "/a", "Type": "bind", "ReadOnly": True},
        {"Target": "/c", "Source": "/c", "Type": "bind", "ReadOnly": False, "BindOptions": {"Propagation": "rshared"}},
        {"Target": "/e", "Source": "/d", "Type": "bind", "ReadOnly": False},
    ]
    assert "volumes" not in options
    assert options["use_config_proxy"] is False
    # The host's kernel modules: a bind the engine makes an empty directory for where its host has none (dind).
    assert ContainerSpec("n", "i", [], {}, modules=True).options()["volumes"] == ["/lib/modules:/lib/modules:ro"]


def test_each_component_gets_the_files_it_names_and_no_other_s_key(tmp_path):
    """Through the engine (put_archive), not by mounting this process's directory: its own keys and
    kubeconfig, the configs it reads and what those name; the CA's key exists nowhere."""
    p = plan(directory=tmp_path / "pytest-single-k8s-abcd1234")
    issued = certificates.issue(p)
    files = {**issued.files, **{p.etc(name): text.encode() for name, text in configs.files(p).items()}}
    got = {
        component: {Path(path).name for path in spec.files} for component, spec in specs.components(p, files).items()
    }
    keys = {
        component: {name for name in names if name.endswith((".key", ".kubeconfig"))}
        for component, names in got.items()
    }
    assert keys[c.KUBELET] == {"kubelet.kubeconfig", "kubelet-server.key"}
    assert got[c.KUBELET] >= {"kubelet.json", "ca.crt", "kubelet-server.crt"}  # named in kubelet.json
    assert keys[c.PROXY] == {"kube-proxy.kubeconfig"}  # named in kube-proxy.json
    # and what clients of the cluster need, for the processes that did not make it (credentials.py)
    assert keys[c.KUBECTL] == {"admin-internal.kubeconfig", "admin.key", "webhook-server.key"}
    assert got[c.KUBECTL] >= set(CLIENT_FILES)
    assert keys[c.ETCD] == {"etcd-server.key"}
    assert got[c.NETWORK] == set()
    assert not any("ca.key" in names for names in got.values())
    # Docker 28 refuses to write files into a container one of whose mounts' targets lies below a symlink
    # leaving the image's root, as /var/run (-> /run) does in ours.
    targets = [
        volume.split(":")[1] for spec in specs.components(p, files).values() if spec.files for volume in spec.volumes
    ]
    assert not [target for target in targets if target.startswith("/var/run/")]
    assert all(
        not spec.volumes or str(p.directory / "pki") not in " ".join(spec.volumes)
        for spec in specs.components(p, files).values()
    )


def test_files_reach_a_container_as_a_tar_of_private_files():
    with tarfile.open(fileobj=io.BytesIO(archive({"/tmp/x/pki/a.key": b"secret"}))) as tar:
        [member] = tar.getmembers()
        assert (member.name, member.mode, member.uid) == ("tmp/x/pki/a.key", 0o600, 0)
        content = tar.extractfile(member)
        assert content is not None
        assert content.read() == b"secret"
