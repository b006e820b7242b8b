import dataclasses
from pathlib import Path

import pytest

from pytest_single_k8s.errors import SingleK8sError
from pytest_single_k8s.settings import BOOLEANS, OPTIONS, Settings, resolve

README = Path(__file__).parents[2] / "README.md"


def test_defaults_when_nothing_is_set():
    assert resolve({}, {"version": "", "api_port": None, "extra_args": []}) == Settings()


def test_cli_beats_ini_beats_default():
    settings = resolve({"version": "1.36", "api_port": None}, {"version": "1.35", "api_port": "16443"})
    assert settings.version == "1.36"
    assert settings.api_port == 16443
    assert settings.wait_timeout == 600.0


def test_extra_args_group_by_component():
    settings = resolve(
        {"extra_args": ["kube-apiserver=--v=4", "kubelet=--v=2", "kube-apiserver=--profiling=false"]}, {}
    )
    assert settings.extra_args_by_component() == {
        "kube-apiserver": ("--v=4", "--profiling=false"),
        "kubelet": ("--v=2",),
    }


@pytest.mark.parametrize("item", ["apiserver=--v=4", "kube-apiserver", "kube-apiserver=v=4"])
def test_bad_extra_args_are_refused_with_the_valid_components(item):
    with pytest.raises(SingleK8sError, match="COMPONENT=--flag.*kube-apiserver, kube-scheduler"):
        resolve({"extra_args": [item]}, {}).extra_args_by_component()


def test_kubectl_takes_no_extra_args_and_is_not_offered():
    with pytest.raises(SingleK8sError, match="kubectl container runs no kubectl.*kubectl --v=4 get pods"):
        resolve({"extra_args": ["kubectl=--v=4"]}, {}).extra_args_by_component()
    with pytest.raises(SingleK8sError, match="COMPONENT one of") as refused:
        resolve({"extra_args": ["kube-apiserver"]}, {}).extra_args_by_component()
    assert "kubectl" not in str(refused.value).split("COMPONENT one of")[1]


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_bad_ports_are_refused(port):
    with pytest.raises(SingleK8sError, match="bad value for --k8s-apiserver-port / k8s_apiserver_port"):
        resolve({"api_port": port}, {})


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_bad_wait_timeouts_are_refused(value):
    with pytest.raises(SingleK8sError, match="--k8s-wait-timeout"):
        resolve({"wait_timeout": value}, {})


def test_require_accepts_true_and_false_only():
    assert resolve({"require": "true"}, {}).require is True
    assert resolve({}, {"require": "false"}).require is False
    with pytest.raises(SingleK8sError, match="--k8s-require"):
        resolve({"require": "maybe"}, {})


def readme_settings_rows() -> list[list[str]]:
    """The rows of the README's settings table, as cells (flag, ini key, default, what)."""
    section = README.read_text().split("\n### Settings\n", 1)[1].split("\n### ", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in section.splitlines() if line.startswith("| `--")]
    return [[cell.strip() for cell in row] for row in rows]


def test_the_readmes_settings_table_follows_options():
    expected = [
        [", ".join(f"`{flag}`" for flag in option.flags), f"`{option.ini}`", option.default]
        for option in OPTIONS.values()
    ]
    assert [row[:3] for row in readme_settings_rows()] == expected


def test_every_default_that_options_name_as_a_value_is_the_default():
    named: dict[str, object] = {
        name: option.default.strip("`") for name, option in OPTIONS.items() if option.default.startswith("`")
    }
    assert named  # the literal defaults: `latest`, `600`, ...
    assert dataclasses.asdict(resolve(named, {})) == dataclasses.asdict(Settings())
    assert set(OPTIONS) == {item.name for item in dataclasses.fields(Settings)}


def test_the_booleans_and_only_they_have_a_negative_flag():
    assert {name for name, option in OPTIONS.items() if option.negative} == BOOLEANS == {"keep", "require"}
