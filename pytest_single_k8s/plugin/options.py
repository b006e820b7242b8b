"""Command-line options, ini keys and the marker; the session's settings from them."""

from __future__ import annotations

import pytest

from ..settings import BOOLEANS, OPTIONS, Settings, resolve


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("single-k8s", "a throwaway single-node Kubernetes cluster (pytest-single-k8s)")
    for name, option in OPTIONS.items():
        repeatable = name == "extra_args"
        # A boolean alone means true (`--k8s-keep`); `--k8s-keep=false` overrides an ini's true.
        boolean = {"nargs": "?", "const": "true"} if name in BOOLEANS else {}
        group.addoption(
            option.flag,
            dest=option.ini,
            default=None,
            action="append" if repeatable else "store",
            help=option.described(f"ini: {option.ini}"),
            **boolean,
        )
        description = f"pytest-single-k8s: {option.help} (see {option.flag})"
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
