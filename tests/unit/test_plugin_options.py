"""The written precedence of settings: CLI > ini > default, checked in real pytest sessions."""

import pytest

PROBE = """
from pytest_single_k8s.plugin import settings

def test_probe(pytestconfig):
    chosen = settings(pytestconfig)
    print(f"VERSION={chosen.version} PORT={chosen.api_port} EXTRA={','.join(chosen.extra_args)}")
"""


@pytest.mark.parametrize(
    ("ini", "cli", "expected"),
    [
        (None, None, "latest"),
        ("1.36", None, "1.36"),
        ("1.36", "v1.35.4", "v1.35.4"),
        (None, "1.37", "1.37"),
    ],
)
def test_version_precedence(pytester, ini, cli, expected):
    if ini is not None:
        pytester.makeini(f"[pytest]\nk8s_version = {ini}\n")
    pytester.makepyfile(PROBE)
    args = ["-s", "-p", "no:cacheprovider"] + (["--k8s-version", cli] if cli else [])
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*VERSION={expected} *"])


def test_every_setting_follows_the_same_precedence(pytester):
    pytester.makeini("[pytest]\nk8s_apiserver_port = 16443\nk8s_extra_args =\n    kubelet=--v=2\n")
    pytester.makepyfile(PROBE)
    result = pytester.runpytest("-s", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*VERSION=latest PORT=16443 EXTRA=kubelet=--v=2"])
    result = pytester.runpytest(
        "-s", "-p", "no:cacheprovider", "--k8s-apiserver-port", "17443", "--k8s-extra-arg", "kube-apiserver=--v=4"
    )
    result.stdout.fnmatch_lines(["*VERSION=latest PORT=17443 EXTRA=kube-apiserver=--v=4"])


def test_the_marker_is_registered(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.k8s: the test uses the throwaway Kubernetes cluster*"])
