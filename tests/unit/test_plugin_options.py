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


EVERY_FIELD = """
import dataclasses
from pytest_single_k8s.plugin import settings

def test_probe(pytestconfig):
    chosen = settings(pytestconfig)
    print(" ".join(f"{item.name}={getattr(chosen, item.name)}" for item in dataclasses.fields(chosen)) + " END")
"""


@pytest.mark.parametrize(
    ("field", "ini", "cli", "from_ini", "from_cli"),
    [
        ("keep", "true", ["--k8s-no-keep"], "True", "False"),
        ("keep", "false", ["--k8s-keep"], "False", "True"),
        ("require", "true", ["--k8s-no-require"], "True", "False"),
        ("require", "false", ["--k8s-require"], "False", "True"),
        ("ready_timeout", "30", ["--k8s-ready-timeout", "45"], "30.0", "45.0"),
        ("kubeconfig", "/a/kubeconfig", ["--k8s-kubeconfig", "/b/kubeconfig"], "/a/kubeconfig", "/b/kubeconfig"),
        ("context", "one", ["--k8s-context", "two"], "one", "two"),
        ("logs_dir", "/a/logs", ["--k8s-logs-dir", "/b/logs"], "/a/logs", "/b/logs"),
        ("addons", "dns", ["--k8s-addons", "none"], "('dns',)", "()"),
    ],
)
def test_each_new_option_and_its_ini_twin(pytester, field, ini, cli, from_ini, from_cli):
    pytester.makepyfile(EVERY_FIELD)
    result = pytester.runpytest("-s", "-p", "no:cacheprovider")
    default = result.stdout.str().split(f" {field}=", 1)[1].split(" ", 1)[0]
    assert default == {"keep": "False", "require": "False", "ready_timeout": "120.0", "addons": "('dns',"}.get(
        field, "None"
    )
    pytester.makeini(f"[pytest]\nk8s_{field} = {ini}\n")
    result = pytester.runpytest("-s", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([f"* {field}={from_ini} *END"])
    result = pytester.runpytest("-s", "-p", "no:cacheprovider", *cli)
    result.stdout.fnmatch_lines([f"* {field}={from_cli} *END"])


@pytest.mark.parametrize(("flag", "field"), [("--k8s-keep", "keep"), ("--k8s-require", "require")])
def test_a_boolean_switch_leaves_the_next_argument_to_pytest(pytester, flag, field):
    pytester.makepyfile(test_outside="def test_outside():\n    assert False, 'collected outside tests/'\n")
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_probe.py").write_text(EVERY_FIELD)
    result = pytester.runpytest("-s", "-p", "no:cacheprovider", flag, "tests/")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"* {field}=True *END"])


@pytest.mark.parametrize("value", ["true", "false"])
def test_a_boolean_flag_takes_no_value(pytester, value):
    pytester.makepyfile(EVERY_FIELD)
    result = pytester.runpytest("-p", "no:cacheprovider", f"--k8s-keep={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--k8s-keep: ignored explicit argument*"])


def test_a_missing_kubeconfig_is_named(pytester):
    pytester.makepyfile("import pytest\n\n@pytest.mark.k8s\ndef test_marked(k8s_client):\n    pass\n")
    # In a subprocess: pytester forgets the modules an in-process run imports, and the kubernetes
    # client's models, imported anew later, would no longer match the classes it validates against.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--k8s-kubeconfig", "/nonexistent/kubeconfig")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*--k8s-kubeconfig /nonexistent/kubeconfig: no such file*"])


def test_an_unknown_context_is_named(pytester):
    kubeconfig = pytester.path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: here\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: here, context: {cluster: c, user: u}}]\n"
    )
    pytester.makepyfile("import pytest\n\n@pytest.mark.k8s\ndef test_marked(k8s_client):\n    pass\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--k8s-kubeconfig", str(kubeconfig), "--k8s-context", "gone"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*--k8s-kubeconfig * (context gone): *gone*"])
