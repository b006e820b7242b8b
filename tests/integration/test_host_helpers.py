"""The host scripts' way into the engine's host (images/kubernetes/in-engine), run for real."""

import os
import subprocess

from pytest_single_k8s.engine import oneshot


def test_in_engine_enters_the_mount_namespace_of_the_engine_that_started_the_helper(k8s_images):
    command = ["in-engine", "readlink", "/proc/self/ns/mnt"]
    output = oneshot.run(k8s_images.client, oneshot.on_host(k8s_images.ref("kubernetes"), command, {}))
    engine = subprocess.run(["pgrep", "-o", "-x", "dockerd"], capture_output=True, text=True, check=True)
    assert output.strip() == os.readlink(f"/proc/{engine.stdout.split()[0]}/ns/mnt")


def test_in_engine_goes_by_its_own_ancestry_not_by_a_process_named_dockerd(k8s_images, run_container):
    """Where the engine is not visible (no host PID namespace) it says so, instead of entering whatever
    process is called dockerd (here an impostor in the helper's own namespaces)."""
    script = 'cp /bin/sleep /tmp/dockerd && /tmp/dockerd 60 & sleep 0.5; in-engine true; echo "exit $?"'
    helper = run_container(k8s_images.ref("kubernetes"), ["bash", "-c", script], privileged=True)
    assert helper.wait(timeout=30)["StatusCode"] == 0
    output = helper.logs().decode()
    assert "in-engine: no process of the engine is visible" in output
    assert "exit 1" in output
