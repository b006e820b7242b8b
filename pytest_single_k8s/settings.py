"""The plugin's settings: one name spelled mechanically in every place it is set.

OPTIONS is the one list of them: each field's CLI flag, ini key, default and help.
The README's table is checked against it (tests/unit/test_settings.py), and the
defaults it names against Settings.

Precedence, written once: CLI > ini > default. A CLI value always wins, even a
falsy one; an ini key that is absent or empty means "not set".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

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
    engine_address: str | None = None
    registry_mirror: str | None = None
    images_from: str | None = None

    def wanted(self) -> Wanted:
        """What the images are asked to hold: the version, where their binaries and their base come from."""
        mirrors = Mirrors(kubernetes=self.release_url, etcd=self.etcd_url, cri_dockerd=self.cri_dockerd_url)
        return Wanted(
            version=self.version,
            binaries=self.binaries,
            mirrors=mirrors,
            base_image=self.base_image,
            registry_mirror=self.registry_mirror,
            images_from=self.images_from,
        )

    def cluster_options(self) -> dict[str, Any]:
        """What create_cluster takes from the settings (all but keep, which its callers decide)."""
        return {
            "api_port": self.api_port,
            "engine_address": self.engine_address,
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


class Option(NamedTuple):
    """How users write one setting, and what it is."""

    flag: str  # on the command line
    ini: str  # the ini key
    default: str  # in words, as the README's table says it; `code` for a value the setting takes
    help: str
    negative: str = ""  # a boolean's other flag, which overrides an ini's true; a boolean flag takes no value

    @property
    def flags(self) -> tuple[str, ...]:
        return (self.flag, self.negative) if self.negative else (self.flag,)

    def described(self, *notes: str) -> str:
        """The help with the default (and any notes), for --help."""
        default = self.default.replace("`", "")
        return f"{self.help} ({'; '.join((f'default: {default}', *notes))})"


OPTIONS = {  # field -> Option: the one table of the settings
    "version": Option(
        "--k8s-version",
        "k8s_version",
        "`latest`",
        "Kubernetes version: 'latest', a minor such as 1.36, or a release such as v1.37.2",
    ),
    "api_port": Option(
        "--k8s-apiserver-port",
        "k8s_apiserver_port",
        "a free port",
        "the apiserver's port on the Docker engine's host",
    ),
    "extra_args": Option(
        "--k8s-extra-arg",
        "k8s_extra_args",
        "none",
        "an extra flag for one component (any but kubectl), as COMPONENT=--flag=value (repeatable)",
    ),
    "wait_timeout": Option(
        "--k8s-wait-timeout",
        "k8s_wait_timeout",
        "`600`",
        "seconds to wait for another session's cluster on the same Docker engine",
    ),
    "ready_timeout": Option(
        "--k8s-ready-timeout",
        "k8s_ready_timeout",
        "`120`",
        "seconds each readiness check of a new cluster may take before the component is reported",
    ),
    "require": Option(
        "--k8s-require",
        "k8s_require",
        "`false`",
        "fail (instead of skipping) the k8s tests when no Docker engine answers",
        "--k8s-no-require",
    ),
    "keep": Option(
        "--k8s-keep",
        "k8s_keep",
        "`false`",
        "keep the cluster running after the session, for the next one to attach to",
        "--k8s-no-keep",
    ),
    "kubeconfig": Option(
        "--k8s-kubeconfig",
        "k8s_kubeconfig",
        "none",
        "run against the cluster of this kubeconfig instead of starting one (nothing is built or started)",
    ),
    "context": Option(
        "--k8s-context",
        "k8s_context",
        "its current context",
        "the context of --k8s-kubeconfig to use",
    ),
    "logs_dir": Option(
        "--k8s-logs-dir",
        "k8s_logs_dir",
        "none",
        "write the full component and pod logs of each failed test under this directory",
    ),
    "addons": Option(
        "--k8s-addons",
        "k8s_addons",
        f"`{','.join(DEFAULT_ADDONS)}`",
        f"what runs in the cluster besides its components: some of {','.join(ADDONS)} (comma-separated), or none",
    ),
    "binaries": Option(
        "--k8s-binaries",
        "k8s_binaries",
        f"`{AUTO}`",
        "where the Kubernetes, etcd and cri-dockerd binaries come from: release (download the official files), "
        "source (build them from Go modules), a directory holding them, or auto (cached images, else release, "
        "else source)",
    ),
    "release_url": Option(
        "--k8s-release-url",
        "k8s_release_url",
        f"`{Mirrors.kubernetes}`",
        "base URL of the Kubernetes release files, <url>/<version>/bin/linux/<arch>/<name>",
    ),
    "etcd_url": Option(
        "--k8s-etcd-url",
        "k8s_etcd_url",
        f"`{Mirrors.etcd}`",
        "base URL of etcd's release archives, <url>/<version>/etcd-<version>-linux-<arch>.tar.gz",
    ),
    "cri_dockerd_url": Option(
        "--k8s-cri-dockerd-url",
        "k8s_cri_dockerd_url",
        f"`{Mirrors.cri_dockerd}`",
        "base URL of cri-dockerd's release archives, <url>/<version>/cri-dockerd-<version>.<arch>.tgz",
    ),
    "base_image": Option(
        "--k8s-base-image",
        "k8s_base_image",
        f"`{AUTO}`",
        "what the debian image starts from: an image to pull and install our packages on with apt-get "
        f"(e.g. {bases.DEBIAN}, or one of a registry mirror), mmdebstrap (a rootfs built here), or auto "
        f"(cached images, else the official images where a registry answers: {bases.DEBIAN}, {bases.NGINX}, "
        "pause, CoreDNS and local-path-provisioner, each built here where it cannot be pulled)",
    ),
    "registry_mirror": Option(
        "--k8s-registry-mirror",
        "k8s_registry_mirror",
        "none",
        "a registry (and path) serving the official images auto pulls under their own paths, e.g. "
        "registry.example:5000 for registry.example:5000/library/debian:bookworm-slim and "
        "registry.example:5000/coredns/coredns:v1.15.0 (an air-gapped registry, or any holding copies under "
        "these paths)",
    ),
    "images_from": Option(
        "--k8s-images-from",
        "k8s_images_from",
        "none",
        "a registry and path holding the image set (`pytest-single-k8s images --push` puts it there), e.g. "
        "registry.example:5000/psk8s: each image the engine lacks is pulled from it by its content tag instead of "
        "being built",
    ),
    "engine_address": Option(
        "--k8s-engine-address",
        "k8s_engine_address",
        "found",
        "where this process reaches ports the Docker engine publishes (a name or address of the engine's host); "
        "found: DOCKER_HOST's host, the gateway in a container of the engine, else 127.0.0.1",
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
        raise SingleK8sError(f"bad value for {OPTIONS[name].flag} / {OPTIONS[name].ini}: {value!r}") from error
