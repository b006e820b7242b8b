"""Keeping a cluster between sessions, attaching to it, and clearing it when settings change."""

import io
import re

import pytest

from pytest_single_k8s.cluster import reaping, reuse
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.engine.containers import listed
from pytest_single_k8s.engine.labels import CLUSTER_LABEL

from .sessions import inner, start_inner, wait_until_up

pytestmark = pytest.mark.own_cluster

KEPT_TEST = """
import pytest

@pytest.mark.k8s
def test_kept(k8s_cluster, k8s_namespace):
    print("CLUSTER", k8s_cluster.plan.cluster_id, flush=True)
    assert OUTCOME == "passed", "this test fails on purpose"
"""


def started(client, cluster_id):
    """Each container of the cluster with the moment it started."""
    found = listed(client, {"label": f"{CLUSTER_LABEL}={cluster_id}"})
    return {container.name: container.attrs["State"]["StartedAt"] for container in found}


def cluster_of(result):
    found = re.search(r"CLUSTER ([0-9a-f]{8})\b", result.stdout.str())
    assert found, result.stdout.str()
    return found.group(1)


def kept_id(client):
    found = reuse.kept_cluster(client)
    return found[0] if found else None


@pytest.fixture
def down(k8s_images):
    yield
    reaping.down(k8s_images.client, Status(io.StringIO()), everyone=True)


def test_a_kept_cluster_outlives_a_failing_session_and_the_next_one_attaches_without_restarts(
    pytester, k8s_images, clean_host, down
):
    client, version = k8s_images.client, k8s_images.versions.kubernetes
    pytester.makepyfile(KEPT_TEST.replace("OUTCOME", repr("failed")))
    first = inner(pytester, "-s", "--k8s-version", version, "--k8s-keep")
    first.assert_outcomes(failed=1)
    kept = cluster_of(first)
    first.stderr.fnmatch_lines([f"*Kept cluster {kept} *", "*export KUBECONFIG=*"])
    assert kept_id(client) == kept
    before = started(client, kept)

    pytester.makepyfile(KEPT_TEST.replace("OUTCOME", repr("passed")))
    second = inner(pytester, "-s", "--k8s-version", version)
    second.assert_outcomes(passed=1)
    assert cluster_of(second) == kept
    attach = re.search(rf"Attached to the kept cluster {kept} .* in ([\d.]+)s", second.stderr.str())
    assert attach, second.stderr.str()
    print(f"attached in {attach.group(1)} s")
    assert started(client, kept) == before, "attaching restarted a container"

    third = inner(pytester, "-s", "--k8s-version", version, "--k8s-extra-arg", "kube-apiserver=--v=2")
    third.assert_outcomes(passed=1)
    third.stderr.fnmatch_lines([f"*Deleting the kept cluster {kept}, not attached: its extra arguments are none*"])
    assert cluster_of(third) != kept
    assert kept_id(client) is None  # the third was not kept: it is gone with its session


def test_a_kept_cluster_in_use_is_not_deleted_under_a_running_session(pytester, k8s_images, clean_host, down):
    client, version = k8s_images.client, k8s_images.versions.kubernetes
    holder = start_inner(pytester, k8s_images, 60, "--k8s-keep")
    try:
        wait_until_up(holder)
        kept = kept_id(client)
        pytester.makepyfile(test_other=KEPT_TEST.replace("OUTCOME", repr("passed")))
        other = inner(
            pytester, "test_other.py", "--k8s-version", version, "--k8s-extra-arg", "kubelet=--v=2",
            "--k8s-wait-timeout", "3",
        )  # fmt: skip
        other.assert_outcomes(errors=1)
        other.stdout.fnmatch_lines(["*the kept cluster * is in use by another session*"])
        assert kept_id(client) == kept
        assert all(state for state in started(client, kept).values())
    finally:
        holder.kill()
        holder.wait()
    # Its user gone (killed), the kept cluster stays for the next session: it was kept, not owned.
    assert kept_id(client) == kept
