"""The plugin's settings: one name spelled mechanically in every place it is set.

    field        CLI                    ini                 default
    version      --k8s-version          k8s_version         latest
    api_port     --k8s-apiserver-port   k8s_apiserver_port  a free port Docker picks
    extra_args   --k8s-extra-arg        k8s_extra_args      none ("COMPONENT=--flag=value", repeatable)
    wait_timeout --k8s-wait-timeout     k8s_wait_timeout    600 (seconds to wait for another session's cluster)
    require      --k8s-require          k8s_require         false (true: no Docker engine is an error, not a skip)

Precedence, written once: CLI > ini > default. A CLI value always wins, even a
falsy one; an ini key that is absent or empty means "not set".
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ..cluster.names import COMPONENTS
from ..errors import SingleK8sError


@dataclass(frozen=True)
class Settings:
    version: str = "latest"
    api_port: int | None = None
    extra_args: tuple[str, ...] = ()
    wait_timeout: float = 600.0
    require: bool = False

    def extra_args_by_component(self) -> dict[str, tuple[str, ...]]:
        by_component: dict[str, tuple[str, ...]] = {}
        for item in self.extra_args:
            component, _, flag = item.partition("=")
            if component not in COMPONENTS or not flag.startswith("-"):
                raise SingleK8sError(
                    f"bad extra argument {item!r}: write COMPONENT=--flag[=value], "
                    f"COMPONENT one of {', '.join(COMPONENTS)}"
                )
            by_component[component] = (*by_component.get(component, ()), flag)
        return by_component


OPTIONS = {  # field -> (CLI flag, ini key, help)
    "version": (
        "--k8s-version",
        "k8s_version",
        "Kubernetes version: 'latest', a minor such as 1.36, or a release such as v1.37.2",
    ),
    "api_port": (
        "--k8s-apiserver-port",
        "k8s_apiserver_port",
        "host port (on 127.0.0.1) for the apiserver; default: a free port",
    ),
    "extra_args": (
        "--k8s-extra-arg",
        "k8s_extra_args",
        "an extra flag for one component, as COMPONENT=--flag=value (repeatable)",
    ),
    "wait_timeout": (
        "--k8s-wait-timeout",
        "k8s_wait_timeout",
        "seconds to wait for another session's cluster on the same Docker engine",
    ),
    "require": (
        "--k8s-require",
        "k8s_require",
        "fail (instead of skipping) the k8s tests when no Docker engine answers: true or false",
    ),
}


def resolve(cli: dict[str, object], ini: dict[str, object]) -> Settings:
    """Settings from CLI values (None: not given) and ini values (None, '' or []: not set)."""
    values: dict[str, Any] = {}
    for item in fields(Settings):
        given = cli.get(item.name)
        if given is None or given == []:
            given = ini.get(item.name)
            if given in (None, "", []):
                continue
        values[item.name] = _convert(item.name, given)
    return Settings(**values)


def _convert(name: str, value: object) -> object:
    try:
        if name == "api_port":
            port = int(str(value))
            if not 0 < port < 65536:
                raise ValueError(port)
            return port
        if name == "wait_timeout":
            seconds = float(str(value))
            if not 0 < seconds < float("inf"):
                raise ValueError(value)
            return seconds
        if name == "require":
            if str(value).lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return str(value).lower() in ("true", "1", "yes")
        if name == "extra_args":
            return tuple(value.split() if isinstance(value, str) else map(str, value))  # type: ignore[call-overload]
        return str(value)
    except ValueError as error:
        raise SingleK8sError(f"bad value for {OPTIONS[name][0]} / {OPTIONS[name][1]}: {value!r}") from error
