"""Kubernetes' own e2e specs against a cluster of ours: the fixed subset CI runs
(tests/conformance/subset.txt) passes, and the run leaves nothing behind. The whole suite is
`python -m tests.conformance` (README: "Conformance")."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conformance import specs

from .sessions import HOST_ENV

pytestmark = pytest.mark.own_cluster
CHECKOUT = Path(__file__).parents[2]


def test_the_conformance_subset_passes_and_leaves_nothing(k8s_images, clean_host, tmp_path):
    version = k8s_images.versions.kubernetes
    command = [sys.executable, "-m", "tests.conformance", "--subset", "--version", version, "--output", str(tmp_path)]
    result = subprocess.run(command, cwd=CHECKOUT, env=HOST_ENV, capture_output=True, text=True, timeout=3600)
    print(result.stdout[-6000:])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert sorted(summary["passed"]) == sorted(specs.SUBSET)
    assert summary["failed"] == {}
