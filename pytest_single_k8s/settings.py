"""The plugin's settings: one name spelled mechanically in every place it is set.

    field         CLI                    ini                 default
    version       --k8s-version          k8s_version         latest
    api_port      --k8s-apiserver-port   k8s_apiserver_port  a free port Docker picks
    extra_args    --k8s-extra-arg        k8s_extra_args      none ("COMPONENT=--flag=value", repeatable)
    wait_timeout  --k8s-wait-timeout     k8s_wait_timeout    600 (seconds to wait for another session's cluster)
    ready_timeout --k8s-ready-timeout    k8s_ready_timeout   120 (seconds for each readiness check of a cluster)
    require       --k8s-require          k8s_require         false (true: no Docker engine is an error, not a skip)
    keep          --k8s-keep             k8s_keep            false (true: the cluster outlives the session)
    kubeconfig    --k8s-kubeconfig       k8s_kubeconfig      none (a path: run against that cluster instead)
    context       --k8s-context          k8s_context         the kubeconfig's current context
    logs_dir      --k8s-logs-dir         k8s_logs_dir        none (a directory: full logs of each failed test)
    addons        --k8s-addons           k8s_addons          dns,storage ("none": the seven components alone)
    binaries      --k8s-binaries         k8s_binaries        auto (release, source, or a directory of binaries)
    release_url   --k8s-release-url      k8s_release_url     https://dl.k8s.io/release (or a mirror of it)
    etcd_url      --k8s-etcd-url         k8s_etcd_url        etcd's GitHub releases (or a mirror of them)
    cri_dockerd_url --k8s-cri-dockerd-url k8s_cri_dockerd_url cri-dockerd's GitHub releases (or a mirror)
    base_image    --k8s-base-image       k8s_base_image      auto (an image reference, or mmdebstrap)

Precedence, written once: CLI > ini > default. A CLI value always wins, even a
falsy one; an ini key that is absent or empty means "not set".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .build import bases
from .build import binaries as sources
from .build.release import Mirrors
from .build.wanted import AUTO, Wanted
from .cluster.addons import ADDONS
from .cluster.addons import DEFAULT as DEFAULT_ADDONS
from .cluster.names import KUBECTL, TAKES_FLAGS
from .errors import SingleK8sError


@dataclass(frozen=True)
class Settings:
    version: str = "latest"
    api_port: int | None = None
    extra_args: tuple[str, ...] = ()
    wait_timeout: float = 600.0
    ready_timeout: float = 120.0
    require: bool = False
    keep: bool = False
    kubeconfig: Path | None = None
    context: str | None = None
    logs_dir: Path | None = None
    addons: tuple[str, ...] = DEFAULT_ADDONS
    binaries: str = AUTO
    release_url: str = Mirrors.kubernetes
    etcd_url: str = Mirrors.etcd
    cri_dockerd_url: str = Mirrors.cri_dockerd
    base_image: str = AUTO

    def wanted(self) -> Wanted:
        """What the images are asked to hold: the version, where their binaries and their base come from."""
        mirrors = Mirrors(kubernetes=self.release_url, etcd=self.etcd_url, cri_dockerd=self.cri_dockerd_url)
        return Wanted(version=self.version, binaries=self.binaries, mirrors=mirrors, base_image=self.base_image)

    def cluster_options(self) -> dict[str, Any]:
        """What create_cluster takes from the settings (all but keep, which its callers decide)."""
        return {
            "api_port": self.api_port,
            "extra_args": self.extra_args_by_component(),
            "wait_timeout": self.wait_timeout,
            "ready_timeout": self.ready_timeout,
            "addon_names": self.addons,
        }

    def extra_args_by_component(self) -> dict[str, tuple[str, ...]]:
        by_component: dict[str, tuple[str, ...]] = {}
        for item in self.extra_args:
            component, _, flag = item.partition("=")
            if component == KUBECTL:
                raise SingleK8sError(
                    f"bad extra argument {item!r}: the kubectl container runs no kubectl of its own to give flags "
                    "to (it is a shell for `pytest-single-k8s kubectl` and k8s_cluster.kubectl()); put kubectl's "
                    "flags on the kubectl command itself, e.g. `pytest-single-k8s kubectl --v=4 get pods`"
                )
            if component not in TAKES_FLAGS or not flag.startswith("-"):
                raise SingleK8sError(
                    f"bad extra argument {item!r}: write COMPONENT=--flag[=value], "
                    f"COMPONENT one of {', '.join(TAKES_FLAGS)}"
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
        "an extra flag for one component (any but kubectl), as COMPONENT=--flag=value (repeatable)",
    ),
    "wait_timeout": (
        "--k8s-wait-timeout",
        "k8s_wait_timeout",
        "seconds to wait for another session's cluster on the same Docker engine",
    ),
    "ready_timeout": (
        "--k8s-ready-timeout",
        "k8s_ready_timeout",
        "seconds each readiness check of a new cluster may take before the component is reported",
    ),
    "require": (
        "--k8s-require",
        "k8s_require",
        "fail (instead of skipping) the k8s tests when no Docker engine answers: true or false",
    ),
    "keep": (
        "--k8s-keep",
        "k8s_keep",
        "keep the cluster running after the session, for the next one to attach to: true or false",
    ),
    "kubeconfig": (
        "--k8s-kubeconfig",
        "k8s_kubeconfig",
        "run against the cluster of this kubeconfig instead of starting one (nothing is built or started)",
    ),
    "context": (
        "--k8s-context",
        "k8s_context",
        "the context of --k8s-kubeconfig to use; default: its current context",
    ),
    "logs_dir": (
        "--k8s-logs-dir",
        "k8s_logs_dir",
        "write the full component and pod logs of each failed test under this directory",
    ),
    "addons": (
        "--k8s-addons",
        "k8s_addons",
        f"what runs in the cluster besides its components: some of {','.join(ADDONS)} (comma-separated), "
        f"or none; default {','.join(DEFAULT_ADDONS)}",
    ),
    "binaries": (
        "--k8s-binaries",
        "k8s_binaries",
        "where the Kubernetes, etcd and cri-dockerd binaries come from: release (download the official files), "
        "source (build them from Go modules), a directory holding them, or auto (cached images, else release, "
        "else source; the default)",
    ),
    "release_url": (
        "--k8s-release-url",
        "k8s_release_url",
        "base URL of the Kubernetes release files, <url>/<version>/bin/linux/<arch>/<name>; "
        f"default {Mirrors.kubernetes}",
    ),
    "etcd_url": (
        "--k8s-etcd-url",
        "k8s_etcd_url",
        "base URL of etcd's release archives, <url>/<version>/etcd-<version>-linux-<arch>.tar.gz; "
        f"default {Mirrors.etcd}",
    ),
    "cri_dockerd_url": (
        "--k8s-cri-dockerd-url",
        "k8s_cri_dockerd_url",
        "base URL of cri-dockerd's release archives, <url>/<version>/cri-dockerd-<version>.<arch>.tgz; "
        f"default {Mirrors.cri_dockerd}",
    ),
    "base_image": (
        "--k8s-base-image",
        "k8s_base_image",
        "what the debian image starts from: an image to pull and install our packages on with apt-get "
        f"(e.g. {bases.DEBIAN}, or one of a registry mirror), mmdebstrap (a rootfs built here), or auto "
        f"(cached images, else {bases.DEBIAN} and {bases.NGINX} where a registry answers, else mmdebstrap; "
        "the default)",
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


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise ValueError(port)
    return port


def _seconds(value: str) -> float:
    seconds = float(value)
    if not 0 < seconds < float("inf"):
        raise ValueError(value)
    return seconds


def _boolean(value: str) -> bool:
    if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(value)
    return value.lower() in ("true", "1", "yes")


def _path(value: str) -> Path:
    if not value.strip():
        raise ValueError(value)
    return Path(value).expanduser()


def _binaries(value: str) -> str:
    if value.strip() in (AUTO, sources.RELEASE, sources.SOURCE):
        return value.strip()
    return str(_path(value))


def _image(value: str) -> str:
    if not value.strip() or any(character.isspace() for character in value.strip()):
        raise ValueError(value)
    return value.strip()


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(value)
    return value.rstrip("/")


def _addons(value: str) -> tuple[str, ...]:
    if value.strip() == "none":
        return ()
    names = tuple(dict.fromkeys(name.strip() for name in value.split(",")))
    if not names or any(name not in ADDONS for name in names):
        raise ValueError(value)
    return names


CONVERTERS: dict[str, Callable[[str], object]] = {  # field -> from text; the rest stay text
    "api_port": _port,
    "wait_timeout": _seconds,
    "ready_timeout": _seconds,
    "require": _boolean,
    "keep": _boolean,
    "kubeconfig": _path,
    "logs_dir": _path,
    "addons": _addons,
    "binaries": _binaries,
    "release_url": _url,
    "etcd_url": _url,
    "cri_dockerd_url": _url,
    "base_image": _image,
}

BOOLEANS = {name for name, converter in CONVERTERS.items() if converter is _boolean}


def _convert(name: str, value: object) -> object:
    if name == "extra_args":  # the one repeatable: a list from the CLI, lines or words from ini
        return tuple(value.split() if isinstance(value, str) else map(str, value))  # type: ignore[call-overload]
    try:
        return CONVERTERS.get(name, str)(str(value))
    except ValueError as error:
        raise SingleK8sError(f"bad value for {OPTIONS[name][0]} / {OPTIONS[name][1]}: {value!r}") from error
