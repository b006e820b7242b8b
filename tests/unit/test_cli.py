"""The command line, without an engine: the settings `up` and `images` take (pytest's, read here), the host
set-up it runs and the hints that name it, errors in one line, and `python -OO`."""

import os
import re
import subprocess
import sys
from pathlib import Path

import docker.errors
import pytest
import requests.exceptions

import pytest_single_k8s
from pytest_single_k8s.cli import main, project
from pytest_single_k8s.common import paths
from pytest_single_k8s.engine import connection, preflight
from pytest_single_k8s.errors import SingleK8sError

INSTALLED_SCRIPT = Path(pytest_single_k8s.__file__).parent / "host" / "setup.sh"

INI = "k8s_version = 1.36\nk8s_apiserver_port = 16443\nk8s_extra_args =\n    kubelet=--v=2\n    kube-apiserver=--v=4\n"
TOML = (
    'k8s_version = "1.36"\nk8s_apiserver_port = "16443"\nk8s_extra_args = ["kubelet=--v=2", "kube-apiserver=--v=4"]\n'
)
FILES = {  # every file pytest finds its configuration in, by name, as pytest reads it
    "pytest.ini": f"[pytest]\n{INI}",
    ".pytest.ini": f"[pytest]\n{INI}",
    "pyproject.toml": f"[project]\nname = 'x'\n\n[tool.pytest.ini_options]\n{TOML}",
    "tox.ini": f"[tox]\nenvlist = py\n\n[pytest]\n{INI}",
    "setup.cfg": f"[metadata]\nname = x\n\n[tool:pytest]\n{INI}",
    "pytest.toml": f"[pytest]\n{TOML}",
}
PROBE = """
from pytest_single_k8s.plugin import settings

def test_probe(pytestconfig):
    print(f"SETTINGS={settings(pytestconfig)!r}")
"""


def session_settings(pytester: pytest.Pytester) -> str:
    """The settings a real pytest session has here, which the command line must read alike."""
    result = pytester.runpytest("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    session = result.stdout.str().split("SETTINGS=", 1)[1].splitlines()[0]
    assert repr(project.settings([])) == session
    return session


@pytest.mark.parametrize("name", list(FILES))
def test_the_cli_reads_the_settings_a_pytest_session_has_from_each_kind_of_file(pytester, monkeypatch, name):
    (pytester.path / name).write_text(FILES[name])
    deeper = pytester.mkdir("tests")  # found upward from here, by the session and by the command alike
    (deeper / "test_probe.py").write_text(PROBE)
    monkeypatch.chdir(deeper)
    session = session_settings(pytester)
    assert "version='1.36', api_port=16443, extra_args=('kubelet=--v=2', 'kube-apiserver=--v=4')" in session


def test_the_first_file_with_a_pytest_section_upward_wins(pytester, monkeypatch):
    pytester.makeini("[pytest]\nk8s_version = 1.36\n")
    deeper = pytester.mkdir("tests")
    (deeper / "tox.ini").write_text("[tox]\nenvlist = py\n")  # no [pytest]: passed over
    (deeper / "setup.cfg").write_text("[tool:pytest]\nk8s_version = 1.35\n")
    (deeper / "test_probe.py").write_text(PROBE)
    monkeypatch.chdir(deeper)
    assert "version='1.35'" in session_settings(pytester)


def test_addopts_count_as_a_session_counts_them(pytester, monkeypatch):
    pytester.makeini("[pytest]\nk8s_version = 1.36\naddopts = --k8s-version=1.35\n")
    pytester.makepyfile(PROBE)
    assert "version='1.35'" in session_settings(pytester)


def test_up_and_images_ask_for_what_pytest_here_would_and_their_flags_win(pytester, monkeypatch):
    pytester.makeini("[pytest]\nk8s_version = 1.36\nk8s_extra_args = kubelet=--v=2\n")
    asked = []

    def chosen(client, wanted, status):
        asked.append(wanted.version)
        raise SingleK8sError("stopped before anything is built")

    monkeypatch.setattr(main, "connect", lambda: None)
    monkeypatch.setattr(main.Images, "chosen", chosen)
    assert main.main(["images"]) == 1
    assert main.main(["up"]) == 1
    assert main.main(["images", "--k8s-version", "1.35"]) == 1
    assert main.main(["up", "--k8s-version=1.34", "--k8s-extra-arg", "kubelet=--v=3"]) == 1
    assert asked == ["1.36", "1.36", "1.35", "1.34"]


def test_a_bad_ini_value_is_an_error_of_the_command(pytester, capsys):
    pytester.makeini("[pytest]\nk8s_apiserver_port = http\n")
    assert main.main(["up"]) == 1
    assert "error: bad value for --k8s-apiserver-port / k8s_apiserver_port: 'http'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "hint",
    [
        connection.SETUP_HINT,
        preflight.ROOTFUL_HINT,
        str(preflight.explain(docker.errors.APIError("500", explanation="unable to apply caps"))),
    ],
)
def test_the_hints_name_the_command_and_the_installed_script(hint):
    assert "`pytest-single-k8s setup-host`" in hint
    named = re.search(r"`bash (\S+)`", hint)
    assert named is not None
    assert Path(named[1]) == INSTALLED_SCRIPT
    assert INSTALLED_SCRIPT.is_file()


def test_setup_host_says_what_it_runs(capsys):
    with pytest.raises(SystemExit) as ended:
        main.main(["setup-host", "--help"])
    assert ended.value.code == 0
    assert f"  bash {INSTALLED_SCRIPT}\n" in capsys.readouterr().out


def test_setup_host_passes_the_script_s_exit_code_through(tmp_path, monkeypatch):
    script = tmp_path / "setup.sh"
    script.write_text('[ "$0" = "${BASH_SOURCE[0]}" ] && exit 3\n')  # run by bash, as a script
    monkeypatch.setattr(paths, "SETUP_SCRIPT", script)
    assert main.main(["setup-host"]) == 3


@pytest.mark.parametrize(
    "error",
    [
        docker.errors.APIError("500 Server Error", explanation="no such container"),
        docker.errors.DockerException("Error while fetching server API version"),
        requests.exceptions.ReadTimeout("UnixHTTPConnectionPool(host='localhost', port=None): Read timed out."),
    ],
)
def test_an_engine_error_is_said_in_one_line_with_exit_code_1(monkeypatch, capsys, error):
    def failing(args):
        raise error

    monkeypatch.setattr(main, "_status", failing)
    assert main.main(["status"]) == 1
    said = capsys.readouterr().err
    assert said.startswith("error: the Docker engine: ")
    assert len(said.splitlines()) == 1


def test_every_command_has_its_line():
    commands = next(action for action in main._parser()._actions if action.dest == "command")
    assert list(commands.choices or ()) == list(main.COMMANDS)


def test_the_command_line_works_under_python_oo(tmp_path):
    """`python -OO` drops docstrings: nothing may be parsed from one."""
    checkout = Path(pytest_single_k8s.__file__).parents[1]  # this code, wherever another copy is installed
    environment = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-OO", "-m", "pytest_single_k8s", "--help"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert all(name in result.stdout for name in main.COMMANDS)
