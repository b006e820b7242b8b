"""A container as data (ContainerSpec) and the few ways we start and remove one."""

from __future__ import annotations

import io
import posixpath
import tarfile
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors
import docker.types

from .labels import COMPONENT_LABEL

LOG_CONFIG = {"Type": "json-file", "Config": {"max-size": "10m"}}
MODULES = "/lib/modules:/lib/modules:ro"


@dataclass(frozen=True)
class ContainerSpec:
    """Everything Docker needs to create one of our containers; plans are lists of these."""

    name: str | None  # None: Docker picks one (one-shot helpers)
    image: str
    command: list[str]
    labels: dict[str, str]
    network_mode: str = "bridge"
    privileged: bool = False
    pid_mode: str | None = None
    volumes: list[str] = field(default_factory=list)  # "host:container:mode", mode ro, rw or a propagation
    ports: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    auto_remove: bool = False
    stdin_open: bool = False  # for one attached client: its stdin closes when that client's connection does
    runtime: str | None = None  # None: the engine's default runtime
    cgroupns: str | None = None  # None: the engine's default (private on cgroup v2)
    extra_hosts: dict[str, str] = field(default_factory=dict)  # name -> address, in its /etc/hosts
    # The host's kernel modules, read-only: a bind Docker makes an empty directory for where the engine's host
    # has none (a dind service), unlike `volumes`.
    modules: bool = False
    # Files written into the container's own filesystem before it starts (path -> content, mode 0600):
    # they reach the engine through its API, wherever its host is.
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def component(self) -> str:
        return self.labels.get(COMPONENT_LABEL, self.name or "")

    def options(self) -> dict[str, Any]:
        """Keyword arguments for docker-py's containers.create."""
        options = {
            "name": self.name,
            "labels": self.labels,
            "network_mode": self.network_mode,
            "privileged": self.privileged,
            "pid_mode": self.pid_mode,
            "mounts": [_bind(volume) for volume in self.volumes],
            "ports": self.ports,
            "environment": self.environment,
            "auto_remove": self.auto_remove,
            "stdin_open": self.stdin_open,
            "restart_policy": {"Name": "no"},
            "log_config": LOG_CONFIG,
            # Proxies from the user's ~/.docker/config.json are for the internet: our components reach
            # each other and this host directly.
            "use_config_proxy": False,
        }
        optional = {
            "runtime": self.runtime,
            "cgroupns": self.cgroupns,
            "extra_hosts": self.extra_hosts,
            "volumes": [MODULES] if self.modules else None,
        }
        return options | {key: value for key, value in optional.items() if value}


def _bind(volume: str) -> docker.types.Mount:
    """A bind mount whose source must exist: the engine refuses to start the container otherwise ("bind
    source path does not exist"), where `-v` would quietly make an empty directory there."""
    source, target, mode = volume.split(":")
    propagation = mode if mode not in ("ro", "rw") else None
    return docker.types.Mount(target, source, type="bind", read_only=mode == "ro", propagation=propagation)


def create(client: docker.DockerClient, spec: ContainerSpec) -> Any:
    container = client.containers.create(spec.image, spec.command, **spec.options())
    if spec.files:
        try:
            container.put_archive("/", archive(spec.files))
        except BaseException:
            remove(container)
            raise
    return container


def archive(files: dict[str, bytes]) -> bytes:
    """A tar of `files` (absolute path -> content), each 0600 and root's; missing directories are made
    where it is unpacked."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, content in sorted(files.items()):
            member = tarfile.TarInfo(path.lstrip("/"))
            member.size, member.mode = len(content), 0o600
            tar.addfile(member, io.BytesIO(content))
    return buffer.getvalue()


def files_in(container: Any, path: str) -> dict[str, bytes]:
    """The regular files at `path` in a container (a file, or a directory's, not below it), by base name;
    {} where there is nothing: one get_archive, wherever the engine's host is."""
    try:
        chunks, _ = container.get_archive(path)
    except docker.errors.NotFound:
        return {}
    found = {}
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        for member in tar.getmembers():
            data = tar.extractfile(member) if member.isfile() and member.name.count("/") <= 1 else None
            if data is not None:
                found[posixpath.basename(member.name)] = data.read()
    return found


class NameTaken(Exception):
    """A container of that name exists: names are how we claim things on the engine atomically."""


def create_named(client: docker.DockerClient, spec: ContainerSpec) -> Any:
    """Create a container under spec.name, which Docker gives to one creator only; NameTaken otherwise."""
    try:
        return create(client, spec)
    except docker.errors.APIError as error:
        if error.status_code == 409:
            raise NameTaken(f"{spec.name} exists") from error
        raise


def listed(client: docker.DockerClient, filters: dict[str, Any]) -> list[Any]:
    """Every container, running or not, that the filters match; one removed while we list is left out."""
    return client.containers.list(all=True, filters=filters, ignore_removed=True)


def remove(container: Any) -> None:
    """Remove a container and its anonymous volumes; one already gone, or going (another step or the
    reaper removes it at the same time), is fine."""
    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as error:
        if error.status_code != 409 or "already in progress" not in str(error):
            raise


def labelled(client: docker.DockerClient, image: str, labels: dict[str, str], ref: str) -> None:
    """Tag as `ref` a copy of `image` with `labels` among its own, which its containers inherit
    (committed from a container of it that never runs)."""
    container = client.containers.create(image, labels=labels)
    try:
        repository, tag = ref.rsplit(":", 1)
        container.commit(repository=repository, tag=tag)
    finally:
        remove(container)


def last_logs(client: docker.DockerClient, name: str, tail: int = 50) -> str:
    """A container's last log lines, or a note that it is gone."""
    try:
        return client.containers.get(name).logs(tail=tail).decode(errors="replace")
    except docker.errors.NotFound:
        return f"(no container {name})"


def image_file(client: docker.DockerClient, image: str, path: str) -> bytes:
    """The bytes of one file of an image, symlinks followed (read from a container never started)."""
    container = client.containers.create(image, ["true"])
    try:
        while True:
            stream, _ = container.get_archive(path)
            with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
                member = archive.getmembers()[0]
                if not member.issym():
                    data = archive.extractfile(member)
                    if data is None:
                        raise ValueError(f"{path} in {image} is not a file")
                    return data.read()
            path = posixpath.join(posixpath.dirname(path), member.linkname)
    finally:
        remove(container)
