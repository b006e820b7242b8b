"""The images hold what they claim: pinned binaries, a real pause, a serving nginx."""

import re
import urllib.request

import pytest

from pytest_single_k8s.build.recipes import KUBE_COMMANDS
from pytest_single_k8s.common.waiting import wait_for


def output_of(k8s_images, image, command):
    client = k8s_images.client
    return client.containers.run(k8s_images.ref(image), command, remove=True, stderr=True).decode()


@pytest.mark.parametrize("command", KUBE_COMMANDS)
def test_each_kubernetes_binary_prints_the_pinned_version(k8s_images, command):
    version = k8s_images.versions.kubernetes
    args = ["version", "--client"] if command == "kubectl" else ["--version"]
    output = output_of(k8s_images, "kubernetes", [command, *args])
    expected = f"Client Version: {version}" if command == "kubectl" else f"Kubernetes {version}"
    assert expected in output.splitlines()


def test_cri_dockerd_prints_its_pinned_version(k8s_images):
    output = output_of(k8s_images, "kubernetes", ["cri-dockerd", "--version"])
    assert re.match(rf"cri-dockerd {re.escape(k8s_images.versions.cri_dockerd.removeprefix('v'))}\b", output)


def test_etcd_prints_its_pinned_version(k8s_images):
    output = output_of(k8s_images, "etcd", ["etcd", "--version"])
    assert f"etcd Version: {k8s_images.versions.etcd.removeprefix('v')}" in output.splitlines()


def test_kubernetes_image_has_the_userland_the_kubelet_and_proxy_need(k8s_images):
    output = output_of(k8s_images, "kubernetes", ["which", "iptables", "conntrack", "mount", "nsenter", "socat"])
    assert len(output.split()) == 5


# A shell in a sibling container that shares the PID namespace of the container
# under test: it orphans a short-lived child, which the kernel re-parents to that
# namespace's PID 1, and then lists the state of every process it can see.
ORPHAN_AND_LIST = "sh -c 'sleep 0.2 &'; sleep 1.5; cat /proc/[0-9]*/stat"


def zombies_after_orphaning(k8s_images, run_container, init):
    helper = run_container(k8s_images.ref("debian"), ["sh", "-c", ORPHAN_AND_LIST], pid_mode=f"container:{init.id}")
    assert helper.wait(timeout=30)["StatusCode"] == 0
    # /proc/PID/stat reads "PID (COMM) STATE ..."
    processes = [line.split(" ", 1)[0] + line.rsplit(")", 1)[1][:2] for line in helper.logs().decode().splitlines()]
    assert "1 S" in processes  # the init under test, seen by the helper
    return sum(process.endswith(" Z") for process in processes)


def test_the_check_sees_a_zombie_under_an_init_that_does_not_reap(k8s_images, run_container):
    sleeper = run_container(k8s_images.ref("debian"), ["sleep", "60"])
    assert zombies_after_orphaning(k8s_images, run_container, sleeper) == 1


def test_pause_as_pid1_reaps_orphans(k8s_images, run_container):
    pause = run_container(k8s_images.ref("pause"))
    assert zombies_after_orphaning(k8s_images, run_container, pause) == 0


def test_pause_exits_0_on_sigterm_at_once(k8s_images, run_container):
    pause = run_container(k8s_images.ref("pause"))
    pause.stop(timeout=20)  # SIGTERM, then SIGKILL (exit 137) after 20 s
    pause.reload()
    assert pause.attrs["State"]["ExitCode"] == 0
    assert "shutting down on terminated" in pause.logs().decode()


def test_pause_exits_0_on_sigint(k8s_images, run_container):
    pause = run_container(k8s_images.ref("pause"))
    pause.kill(signal="SIGINT")
    assert pause.wait(timeout=20)["StatusCode"] == 0


def test_pause_image_is_just_the_static_program(k8s_images):
    image = k8s_images.client.images.get(k8s_images.ref("pause"))
    assert image.attrs["Config"]["Entrypoint"] == ["/pause"]
    assert image.attrs["Size"] < 5_000_000


def test_nginx_serves_its_welcome_page(k8s_images, run_container):
    nginx = run_container(k8s_images.ref("nginx"), ports={"80/tcp": ("127.0.0.1", None)})
    nginx.reload()
    port = nginx.attrs["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]

    def fetch():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return response.read().decode()

    assert "Welcome to nginx!" in wait_for(fetch, "nginx to serve its page", timeout=30)
