"""Behind an HTTP proxy: a session whose environment names a proxy (at a dead port, as an unreachable
corporate one) still gets its cluster, and the example passes: the cluster's own addresses are reached
directly (common/direct.py). The images are cached already, so nothing needs the internet."""

import pytest

from ..unit.servers import dead_port
from .sessions import EXAMPLE, EXAMPLE_TESTS, inner

pytestmark = pytest.mark.own_cluster


def test_with_a_dead_proxy_in_the_environment_the_example_passes(pytester, k8s_images, clean_host, monkeypatch):
    proxy = f"http://127.0.0.1:{dead_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, proxy)
        monkeypatch.setenv(name.lower(), proxy)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")  # what users have; it cannot name 172.17.0.0/16
    monkeypatch.setenv("no_proxy", "localhost,127.0.0.1")
    result = inner(pytester, "--k8s-version", k8s_images.versions.kubernetes, str(EXAMPLE))
    result.assert_outcomes(passed=EXAMPLE_TESTS)
