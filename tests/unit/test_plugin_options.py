"""The written precedence of settings: CLI > ini > default, checked in real pytest sessions."""

import pytest

PROBE = """
from pytest_single_k8s.plugin import requested_version

def test_probe(pytestconfig):
    print("VERSION=" + requested_version(pytestconfig))
"""


@pytest.mark.parametrize(
    "ini, cli, expected",
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
    result.stdout.fnmatch_lines([f"*VERSION={expected}"])


def test_the_marker_is_registered(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.k8s: the test uses the throwaway Kubernetes cluster*"])
