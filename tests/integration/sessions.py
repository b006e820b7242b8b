"""Inner pytest sessions for the tests that start clusters of their own (pytester, in subprocesses)."""

import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parents[1] / "example"
TEST_FUNCTION = re.compile(r"^(?:async )?def test_", re.MULTILINE)
EXAMPLE_TESTS = sum(len(TEST_FUNCTION.findall(path.read_text())) for path in EXAMPLE.glob("test_*.py"))

MARKED_TEST = """
import pytest

@pytest.mark.k8s
def test_uses_the_cluster(k8s_cluster):
    assert k8s_cluster.kubectl("get", "nodes")
"""


# The environment as the run started: pytester points HOME at a temporary directory, and a Go build
# under that HOME would start from empty module and build caches (minutes instead of seconds).
HOST_ENV = dict(os.environ)


def images_command(*args, cache=None):
    """`pytest-single-k8s images ARGS`, with the cache directory at `cache` where given."""
    env = {**HOST_ENV, **({"PYTEST_SINGLE_K8S_CACHE": str(cache)} if cache else {})}
    command = [sys.executable, "-m", "pytest_single_k8s", "images", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=1200, env=env)


def inner(pytester, *args):
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


LONG_TEST = """
import time
import pytest

@pytest.mark.k8s
def test_holds_the_cluster(k8s_cluster):
    print("CLUSTER-UP", flush=True)
    time.sleep(float(__import__("os").environ.get("HOLD_SECONDS", "120")))
"""


def start_inner(pytester, k8s_images, hold, *args, wrapper=()):
    """A session that holds its cluster for `hold` seconds; `wrapper` runs it (e.g. in namespaces of its own)."""
    pytester.makepyfile(LONG_TEST)
    env = {**os.environ, "HOLD_SECONDS": str(hold)}
    return subprocess.Popen(
        [
            *wrapper,
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-s",
            "--k8s-version",
            k8s_images.versions.kubernetes,
            *args,
        ],
        cwd=pytester.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until_up(process):
    for line in process.stdout:
        if "CLUSTER-UP" in line:
            return
    raise AssertionError(f"the inner session ended before its cluster was up (exit {process.wait()})")


XDIST_TESTS = """
import pytest

@pytest.mark.k8s
@pytest.mark.parametrize("n", range(4))
def test_worker(k8s_cluster, k8s_namespace, n):
    assert k8s_cluster.kubectl("get", "namespace", k8s_namespace)
    with open("seen.txt", "a") as seen:  # xdist does not pass workers' output on
        seen.write(f"{k8s_cluster.plan.cluster_id} {k8s_namespace}\\n")
"""
