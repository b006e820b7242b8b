"""The host scripts of the kubernetes image (images/kubernetes), run here by bash on recorded input
and a fake host: what they remove, what they leave alone, and how they say so.

The scripts reach the engine's host through `in-engine`, and read /proc and /sys/fs/cgroup at
roots that host-lib lets a test move (HOST_PROC, HOST_CGROUPS); every other command that would
change the host (iptables-restore, modprobe, rmmod, umount, systemctl) is a stub that records its call.
"""

import os
import subprocess
from pathlib import Path

import pytest

from pytest_single_k8s.cluster import directory

SCRIPTS = Path(__file__).parents[2] / "images" / "kubernetes"
RECORDED = Path(__file__).parent / "data"  # iptables-save.txt: a cluster with a NodePort Service, v1.37.2
STUBS = {
    "in-engine": 'exec "$@"',  # this process's namespaces stand for the engine's
    "iptables-save": 'cat "$FAKE/iptables-save"',
    "ip6tables-save": "exit 1",  # no IPv6 here
    "iptables-restore": 'cat >>"$FAKE/restored"',
    "findmnt": "true",
    "umount": 'echo "umount $*" >>"$FAKE/calls"',
    "modprobe": 'echo "modprobe $*" >>"$FAKE/calls"',
    "rmmod": 'echo "rmmod $*" >>"$FAKE/calls"',
    "systemctl": "exit 3",
    "mount": 'echo "mount $*" >>"$FAKE/calls"',
    "iptables": 'echo "iptables $*" >>"$FAKE/calls"; [[ " $* " != *" -C "* ]]',  # no rule is there yet
}


@pytest.fixture
def host(tmp_path):
    """A fake host: stubs first on PATH, then the scripts; /proc and /sys/fs/cgroup under tmp_path."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, body in STUBS.items():
        (stubs / name).write_text(f"#!/bin/bash\n{body}\n")
        (stubs / name).chmod(0o755)
    (tmp_path / "iptables-save").write_text("")
    for path in ("proc/1", "proc/sys/net/bridge", "cgroup"):
        (tmp_path / path).mkdir(parents=True)
    (tmp_path / "proc" / "1" / "comm").write_text("systemd\n")
    environment = {
        **os.environ,
        "PATH": f"{stubs}:{SCRIPTS}:{os.environ['PATH']}",
        "FAKE": str(tmp_path),
        "HOST_PROC": str(tmp_path / "proc"),
        "HOST_CGROUPS": str(tmp_path / "cgroup"),
    }

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", *command], env=environment, capture_output=True, text=True, timeout=30)

    return tmp_path, run


def cluster_directory(root: Path, cluster_id: str, marker: str | None = None) -> Path:
    path = root / f"{directory.PREFIX}{cluster_id}"
    (path / "kubelet").mkdir(parents=True)
    (path / directory.MARKER).write_text(marker or cluster_id)
    return path


def library(run, call: str) -> str:
    result = run("-c", f"source host-lib; {call}")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_kube_chains_removes_kube_chains_and_jumps_to_them_from_recorded_rules():
    result = subprocess.run(
        ["awk", "-f", str(SCRIPTS / "kube-chains")],
        input=(RECORDED / "iptables-save.txt").read_text(),
        capture_output=True,
        text=True,
        check=True,
    )
    restore = result.stdout.splitlines()
    assert [line for line in restore if line.startswith("*")] == ["*mangle", "*filter", "*nat"]
    assert '-D INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS' in restore
    assert '-D FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD' in restore
    assert '-D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES' in restore
    assert '-D POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING' in restore
    assert "-D INPUT -j KUBE-FIREWALL" in restore
    assert "-F KUBE-SERVICES" in restore
    assert "-X KUBE-SERVICES" in restore
    # Nothing of Docker's, nor a rule whose comment only mentions a KUBE- chain.
    assert not [line for line in restore if "DOCKER" in line]
    assert not [line for line in restore if "mentions" in line]
    # Each table that held KUBE- chains ends with COMMIT; in each, jumps go first, then flushes, then deletions.
    tables = "\n".join(restore).split("COMMIT")
    assert tables[-1].strip() == ""
    for table in tables[:-1]:
        kinds = [line.split()[0] for line in table.strip().splitlines()[1:]]
        assert kinds == sorted(kinds, key=["-D", "-F", "-X"].index), table


def test_kube_chains_prints_nothing_without_kube_chains():
    rules = "*filter\n:INPUT ACCEPT [0:0]\n:DOCKER - [0:0]\n-A FORWARD -j DOCKER\nCOMMIT\n"
    result = subprocess.run(["awk", "-f", str(SCRIPTS / "kube-chains")], input=rules, capture_output=True, text=True)
    assert result.stdout == ""


def test_node_agents_of_another_kubernetes_are_named_with_their_pids(host):
    root, run = host
    for pid, name in {812: "kubelet", 901: "dockerd", 1400: "kube-proxy", 77: "kubelet-x", 55: "cri-dockerd"}.items():
        (root / "proc" / str(pid)).mkdir()
        (root / "proc" / str(pid) / "comm").write_text(f"{name}\n")
    assert sorted(library(run, "node_agents").splitlines()) == [
        "cri-dockerd (pid 55)",
        "kube-proxy (pid 1400)",
        "kubelet (pid 812)",
    ]


def test_pod_cgroups_that_hold_processes_are_found_on_v1_and_v2(host):
    root, run = host
    busy = root / "cgroup" / "kubepods.slice" / "kubepods-besteffort.slice" / "kubepods-besteffort-pod1.slice"
    busy.mkdir(parents=True)
    (busy / "cgroup.procs").write_text("4242\n")
    (root / "cgroup" / "kubepods.slice" / "cgroup.procs").write_text("")
    (root / "cgroup" / "cpu" / "kubepods" / "burstable").mkdir(parents=True)  # a v1 hierarchy, empty
    (root / "cgroup" / "cpu" / "kubepods" / "burstable" / "cgroup.procs").write_text("")
    assert sorted(library(run, "pod_cgroup_roots").split()) == [
        str(root / "cgroup" / "cpu" / "kubepods"),
        str(root / "cgroup" / "kubepods.slice"),
    ]
    assert library(run, "pod_processes").split() == ["4242"]
    (busy / "cgroup.procs").write_text("")
    assert library(run, "pod_processes").split() == []


def test_a_directory_is_a_cluster_s_only_when_its_marker_holds_the_id(host):
    root, run = host
    path = cluster_directory(root, "abcd1234")
    assert run("-c", f"source host-lib; is_cluster_directory {path} abcd1234").returncode == 0
    assert run("-c", f"source host-lib; is_cluster_directory {path} ef567890").returncode != 0
    assert run("-c", f"source host-lib; is_cluster_directory {root / 'missing'} abcd1234").returncode != 0


def test_host_cleanup_removes_chains_pod_cgroups_netfilter_changes_and_the_directory(host):
    root, run = host
    (root / "iptables-save").write_text((RECORDED / "iptables-save.txt").read_text())
    (root / "cgroup" / "kubepods" / "besteffort" / "pod1").mkdir(parents=True)
    path = cluster_directory(root, "abcd1234")
    (path / "host-state").write_text("set bridge-nf-call-iptables\nloaded br_netfilter\n")
    result = run(str(SCRIPTS / "host-cleanup"), str(path), "abcd1234")
    assert result.returncode == 0, result.stderr
    assert "-X KUBE-SERVICES" in (root / "restored").read_text()
    assert not (root / "cgroup" / "kubepods").exists()
    assert (root / "proc" / "sys" / "net" / "bridge" / "bridge-nf-call-iptables").read_text() == "0\n"
    # rmmod: `modprobe -r` would unload the bridge module too, and docker0 with it
    assert (root / "calls").read_text() == "rmmod br_netfilter\n"
    assert not path.exists()


def test_host_cleanup_leaves_a_directory_whose_marker_names_another_cluster_and_says_so(host):
    root, run = host
    path = cluster_directory(root, "abcd1234", marker="ef567890")
    (path / "host-state").write_text("set bridge-nf-call-iptables\n")
    result = run(str(SCRIPTS / "host-cleanup"), str(path), "abcd1234")
    assert result.returncode == 1
    assert f"{path} is not the directory of cluster abcd1234" in result.stderr
    assert (path / directory.MARKER).exists()
    assert not (root / "proc" / "sys" / "net" / "bridge" / "bridge-nf-call-iptables").exists()


def test_host_cleanup_acts_on_known_host_state_lines_only(host):
    root, run = host
    path = cluster_directory(root, "abcd1234")
    (path / "host-state").write_text("set ../../../../etc/passwd\nset bridge-nf-call-ip6tables\n")
    result = run(str(SCRIPTS / "host-cleanup"), str(path), "abcd1234")
    assert result.returncode == 1
    assert "ignored an unknown line" in result.stderr
    assert (root / "proc" / "sys" / "net" / "bridge" / "bridge-nf-call-ip6tables").read_text() == "0\n"
    assert sorted(p.name for p in (root / "proc" / "sys" / "net" / "bridge").iterdir()) == ["bridge-nf-call-ip6tables"]


def test_host_cleanup_leaves_another_kubelet_s_chains_and_cgroups_alone_and_fails(host):
    root, run = host
    (root / "iptables-save").write_text((RECORDED / "iptables-save.txt").read_text())
    busy = root / "cgroup" / "kubepods" / "burstable" / "pod9"
    busy.mkdir(parents=True)
    (busy / "cgroup.procs").write_text("4242\n")
    path = cluster_directory(root, "abcd1234")
    (path / "host-state").write_text("")
    result = run(str(SCRIPTS / "host-cleanup"), str(path), "abcd1234")
    assert result.returncode == 1
    assert "processes still run in pod cgroups (another kubelet's pods?): 4242" in result.stderr
    assert not (root / "restored").exists()
    assert busy.exists()
    assert not path.exists()  # our own directory still goes


def test_host_cleanup_directory_only_touches_nothing_host_wide(host):
    root, run = host
    (root / "iptables-save").write_text((RECORDED / "iptables-save.txt").read_text())
    (root / "cgroup" / "kubepods").mkdir()
    path = cluster_directory(root, "abcd1234")
    (path / "host-state").write_text("set bridge-nf-call-iptables\n")
    result = run(str(SCRIPTS / "host-cleanup"), str(path), "abcd1234", "--directory-only")
    assert result.returncode == 0, result.stderr
    assert not (root / "restored").exists()
    assert (root / "cgroup" / "kubepods").exists()
    assert not path.exists()


def test_host_cleanup_touches_nothing_host_wide_where_host_prepare_never_changed_the_host(host):
    """host-prepare refused (another Kubernetes runs there) or never ran: its chains are not ours."""
    root, run = host
    (root / "iptables-save").write_text((RECORDED / "iptables-save.txt").read_text())
    (root / "cgroup" / "kubepods").mkdir()
    path = cluster_directory(root, "abcd1234")
    result = run(str(SCRIPTS / "host-cleanup"), str(path), "abcd1234")
    assert result.returncode == 0, result.stderr
    assert not (root / "restored").exists()
    assert (root / "cgroup" / "kubepods").exists()
    assert not path.exists()


def test_host_prepare_refuses_a_host_where_another_kubernetes_runs_before_touching_it(host):
    root, run = host
    (root / "proc" / "812").mkdir()
    (root / "proc" / "812" / "comm").write_text("kubelet\n")
    path = root / f"{directory.PREFIX}abcd1234"
    result = run(str(SCRIPTS / "host-prepare"), str(path), "abcd1234", *directory.SUBDIRECTORIES)
    assert result.returncode == 4
    assert "another Kubernetes runs on this host: kubelet (pid 812)" in result.stderr
    assert not path.exists()  # nothing made, so host-cleanup leaves the host alone


def test_host_prepare_makes_the_directory_shares_the_kubelet_s_root_and_keeps_netfilter_settings_on(host):
    root, run = host
    for family in ("iptables", "ip6tables"):
        (root / "proc" / "sys" / "net" / "bridge" / f"bridge-nf-call-{family}").write_text("1\n")
    path = root / f"{directory.PREFIX}abcd1234"
    result = run(str(SCRIPTS / "host-prepare"), str(path), "abcd1234", *directory.SUBDIRECTORIES)
    assert result.returncode == 0, result.stderr
    calls = (root / "calls").read_text().splitlines()
    assert calls == [f"mount --bind {path}/kubelet {path}/kubelet", f"mount --make-rshared {path}/kubelet"]
    assert (path / "host-state").read_text() == ""  # made: host-cleanup may undo host-wide changes
    assert (path / directory.MARKER).read_text() == "abcd1234\n"
    assert sorted(x.name for x in path.iterdir()) == sorted([*directory.SUBDIRECTORIES, directory.MARKER, "host-state"])
    assert oct(path.stat().st_mode & 0o777) == "0o700"


def test_host_prepare_refuses_a_host_that_cannot_share_mounts_in_words_the_plugin_recognises(host):
    root, run = host
    (root / "bin" / "mount").write_text(
        '#!/bin/bash\n[[ $1 != --make-rshared ]] || { echo "mount: denied" >&2; exit 32; }\n'
    )
    path = root / f"{directory.PREFIX}abcd1234"
    result = run(str(SCRIPTS / "host-prepare"), str(path), "abcd1234", *directory.SUBDIRECTORIES)
    assert result.returncode == 5
    assert "mount: denied" in result.stderr
    assert "cannot share mounts" in result.stderr  # what cluster/create.py turns into preflight.unshared_mounts
    assert (path / "host-state").exists()  # host-cleanup removes what was made


def test_service_fence_refuses_untranslated_service_traffic_of_pods_then_runs_kube_proxy(host):
    root, run = host
    result = run(str(SCRIPTS / "service-fence"), "172.17.0.0/16", "10.96.0.0/16", "echo", "kube-proxy runs")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "kube-proxy runs\n"
    calls = (root / "calls").read_text().splitlines()
    assert calls[0] == "iptables -w 5 -N KUBE-SERVICE-FENCE"
    rules = [call for call in calls if " -A KUBE-SERVICE-FENCE " in call]
    assert len(rules) == 2
    assert all("-s 172.17.0.0/16 -d 10.96.0.0/16 " in rule for rule in rules)
    assert all("-m conntrack ! --ctstate DNAT -j REJECT" in rule for rule in rules)
    assert calls[-1] == "iptables -w 5 -I FORWARD -j KUBE-SERVICE-FENCE"  # once: -C found no jump yet


@pytest.mark.parametrize("marker", ["ef567890", "abcd1234"])
def test_host_prepare_leaves_a_directory_already_there_alone(host, marker):
    root, run = host
    path = cluster_directory(root, "abcd1234", marker=marker)
    result = run(str(SCRIPTS / "host-prepare"), str(path), "abcd1234", *directory.SUBDIRECTORIES)
    assert result.returncode == 3
    assert "already there" in result.stderr
    assert sorted(x.name for x in path.iterdir()) == ["cluster-id", "kubelet"]
    assert not (root / "calls").exists()


def test_the_marker_the_scripts_read_is_the_one_host_prepare_writes():
    assert f'"$dir/{directory.MARKER}"' in (SCRIPTS / "host-lib").read_text()
    assert f'"$dir/{directory.MARKER}"' in (SCRIPTS / "host-prepare").read_text()
