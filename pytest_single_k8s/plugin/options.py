"""Command-line options, ini keys and the marker; the session's settings from them."""

from __future__ import annotations

import pytest

from ..settings import OPTIONS, Settings, resolve


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("single-k8s", "a throwaway single-node Kubernetes cluster (pytest-single-k8s)")
    for name, option in OPTIONS.items():
        repeatable = name == "extra_args"
        # A boolean is a plain switch, with a twin that overrides an ini's true: an optional value
        # would take the next argument for its own (`--k8s-keep tests/`).
        switch = {"action": "store_const", "const": "true"} if option.negative else {}
        action = "append" if repeatable else "store"
        described = option.described(f"ini: {option.ini}")
        group.addoption(option.flag, dest=option.ini, default=None, help=described, **({"action": action} | switch))
        if option.negative:
            negative = f"the opposite of {option.flag}: overrides {option.ini} = true"
            group.addoption(option.negative, dest=option.ini, action="store_const", const="false", help=negative)
        values = ": true or false" if option.negative else ""
        description = f"pytest-single-k8s: {option.help}{values} (see {option.flag})"
        if repeatable:
            parser.addini(option.ini, description, type="linelist")
        else:
            parser.addini(option.ini, description)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "k8s: the test uses the throwaway Kubernetes cluster of pytest-single-k8s")


def settings(config: pytest.Config) -> Settings:
    """The settings of this session: CLI > ini > default (see settings.py)."""
    cli = {name: config.getoption(option.ini) for name, option in OPTIONS.items()}
    ini = {name: config.getini(option.ini) for name, option in OPTIONS.items()}
    return resolve(cli, ini)
