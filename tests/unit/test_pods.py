"""Another Kubernetes on the same host: its node agents are seen in /proc, and refused."""

from pytest_single_k8s.cluster import pods


def fake_proc(tmp_path, processes):
    for pid, name in processes.items():
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "comm").write_text(name + "\n")
    (tmp_path / "self").mkdir()
    return tmp_path


def test_node_agents_of_another_kubernetes_are_named_with_their_pids(tmp_path):
    proc = fake_proc(tmp_path, {1: "systemd", 812: "kubelet", 901: "dockerd", 1400: "kube-proxy", 77: "kubelet-x"})
    assert pods.node_agent_processes(proc) == ["kube-proxy (pid 1400)", "kubelet (pid 812)"]


def test_a_host_without_one_shows_none(tmp_path):
    assert pods.node_agent_processes(fake_proc(tmp_path, {1: "init", 2: "dockerd", 3: "containerd"})) == []


def test_pod_cgroups_that_still_hold_processes_are_another_kubelet_s(tmp_path):
    busy = tmp_path / "kubepods.slice" / "kubepods-besteffort.slice" / "kubepods-besteffort-pod1.slice"
    busy.mkdir(parents=True)
    (busy / "cgroup.procs").write_text("4242\n")
    (tmp_path / "kubepods.slice" / "cgroup.procs").write_text("")
    (tmp_path / "cpu" / "kubepods" / "burstable").mkdir(parents=True)  # a v1 hierarchy, empty
    (tmp_path / "cpu" / "kubepods" / "burstable" / "cgroup.procs").write_text("")
    assert pods.busy_pod_cgroups(tmp_path) == [str(busy)]
    (busy / "cgroup.procs").write_text("")
    assert pods.busy_pod_cgroups(tmp_path) == []
