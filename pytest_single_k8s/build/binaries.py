"""Where the upstream binaries in our images come from (--k8s-binaries): one class per source.

    release  the official release files, or a mirror of them (release.py), verified by SHA-256
    source   built here from Go modules (gobuild.py): needs no download site, only the Go module proxy
    a path   a directory of binaries the user provides; their versions are read from the binaries
    auto     images already cached from any source, else release, else source (choose())

The upstream binaries are the Kubernetes commands, etcd and cri-dockerd; our
own small programs (pause, the reaper) and the addons are built from Go
modules whatever the source. Each source gives its own image tags.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..common.progress import Status
from ..errors import BuildError, VersionError
from . import downloads, gobuild, goproxy, release, versions
from .recipes import CRI_DOCKERD, ETCD, KUBE_COMMANDS, UPSTREAM, Versions
from .wanted import AUTO, Wanted

RELEASE, SOURCE, DIRECTORY = "release", "source", "directory"
VERSION_TIMEOUT = 30.0  # seconds for a binary to print its version


class Binaries(Protocol):
    @property
    def kind(self) -> str:
        """release, source or directory: the images command shows it, the tag holds it."""

    def describe(self) -> str:
        """Where the binaries come from, for people."""

    def tag_inputs(self) -> dict[str, object]:
        """What, besides the versions, decides the bytes these binaries put in an image."""

    def provide(
        self, names: tuple[str, ...], versions: Versions, folder: Path, into: Path, scratch: Path, status: Status
    ) -> None:
        """Put the upstream binaries `names` into `into`; `folder` is the image's recipe folder, `scratch`
        a directory for anything else (archives), removed afterwards."""


@dataclass(frozen=True)
class FromRelease:
    """cri-dockerd, where no checksum vouches for its archive, is built from Go modules instead."""

    mirrors: release.Mirrors
    cache: Path
    kind: str = RELEASE

    def describe(self) -> str:
        return f"release files from {self.mirrors.kubernetes}"

    def tag_inputs(self) -> dict[str, object]:
        # The sites are in the tag: one without cri-dockerd's checksum gives a cri-dockerd built here.
        sites = dataclasses.asdict(self.mirrors)
        return {"binaries": self.kind, "sites": sites, "code": _code_hash(release, downloads)}

    def provide(
        self, names: tuple[str, ...], versions: Versions, folder: Path, into: Path, scratch: Path, status: Status
    ) -> None:
        into.mkdir(parents=True, exist_ok=True)
        with status.step(f"Downloading {', '.join(names)} ({self.describe()})") as step:
            kube = tuple(name for name in names if name in KUBE_COMMANDS)
            release.fetch_kubernetes(self.mirrors, versions.kubernetes, kube, into, step.update)
            if ETCD in names:
                release.fetch_etcd(self.mirrors, versions.etcd, into, scratch, step.update)
            if CRI_DOCKERD in names:
                try:
                    release.fetch_cri_dockerd(self.mirrors, versions.cri_dockerd, into, scratch, step.update)
                except release.NoChecksum as error:
                    status.info(f"   {error}: building it from Go modules")
                    FromGoModules(self.cache).provide((CRI_DOCKERD,), versions, folder, into, scratch, status)


@dataclass(frozen=True)
class FromGoModules:
    cache: Path
    kind: str = SOURCE

    def describe(self) -> str:
        return f"built from Go modules ({goproxy.proxy_url()})"

    def tag_inputs(self) -> dict[str, object]:
        return {"binaries": self.kind, "code": _code_hash(gobuild, goproxy)}

    def provide(
        self, names: tuple[str, ...], versions: Versions, folder: Path, into: Path, scratch: Path, status: Status
    ) -> None:
        """The Kubernetes commands as one multi-call binary, `kube` (images/kubernetes/main.go), linked by name."""
        work = self.cache / "go"
        if set(names) & set(KUBE_COMMANDS):
            gobuild.build(gobuild.kubernetes(versions.kubernetes, folder / "main.go"), into, work, status)
            for name in names:
                if name in KUBE_COMMANDS:
                    (into / name).symlink_to("kube")
        if ETCD in names:
            gobuild.build(gobuild.etcd(versions.etcd, folder / "main.go"), into, work, status)
        if CRI_DOCKERD in names:
            gobuild.build(gobuild.cri_dockerd(versions.cri_dockerd), into, work, status)


@dataclass(frozen=True)
class FromDirectory:
    path: Path
    kind: str = DIRECTORY

    def describe(self) -> str:
        return f"binaries from {self.path}"

    def tag_inputs(self) -> dict[str, object]:
        return {"binaries": self.kind, "sha256": self._digests}

    @functools.cached_property
    def _digests(self) -> dict[str, str]:
        """The files' contents in the tag (hashed once: they are hundreds of megabytes)."""
        return {name: downloads.sha256_of(self.path / name) for name in UPSTREAM}

    def provide(
        self, names: tuple[str, ...], versions: Versions, folder: Path, into: Path, scratch: Path, status: Status
    ) -> None:
        into.mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy2(self.path / name, into / name)  # copy2 follows links: the image gets the file

    def versions(self, requested: str | None) -> Versions:
        """The versions the binaries report; the Kubernetes commands must all be the requested release."""
        missing = [name for name in UPSTREAM if not (self.path / name).is_file()]
        if missing:
            raise BuildError(f"{self.path} lacks {', '.join(missing)}: --k8s-binaries needs {', '.join(UPSTREAM)}")
        found = {name: _version_of(self.path / name) for name in KUBE_COMMANDS}
        kubernetes = set(found.values())
        if len(kubernetes) > 1:
            raise VersionError(
                f"the Kubernetes binaries in {self.path} are of different releases: "
                + ", ".join(f"{name} {version}" for name, version in found.items())
            )
        (version,) = kubernetes
        wanted = versions.parse_request(requested)
        parsed = versions.parse_release(version)
        if parsed is None or parsed[:2] < versions.MINIMUM:
            raise VersionError(
                f"the binaries in {self.path} are Kubernetes {version}: pytest-single-k8s needs {versions.minimum()}"
                " or later"
            )
        if wanted is not None and (parsed[:2] != wanted[:2] or wanted[2] not in (None, parsed[2])):
            raise VersionError(f"the binaries in {self.path} are Kubernetes {version}, not the requested {requested}")
        return Versions(
            kubernetes=version,
            etcd=_version_of(self.path / ETCD),
            cri_dockerd=_version_of(self.path / CRI_DOCKERD),
        )


def choose(wanted: Wanted, cache: Path, cached: CachedCheck, status: Status) -> tuple[Versions, Binaries]:
    """The versions and the source for a request; `cached(versions, binaries)` says whether images exist.

    A release requested exactly (v1.37.2) whose images are cached asks nobody: an offline or
    air-gapped host runs from its cache. Anything else is resolved where the source says."""
    downloaded, built = FromRelease(wanted.mirrors, cache), FromGoModules(cache)
    if wanted.binaries not in (AUTO, RELEASE, SOURCE):
        directory = FromDirectory(Path(wanted.binaries).expanduser().resolve())
        return directory.versions(wanted.version), directory
    candidates = {AUTO: (downloaded, built), RELEASE: (downloaded,), SOURCE: (built,)}[wanted.binaries]
    exact = versions.exact(wanted.version)
    if exact is not None:
        for candidate in candidates:
            if cached(Versions(kubernetes=exact), candidate):
                return Versions(kubernetes=exact), candidate
    if wanted.binaries == RELEASE:
        return Versions(kubernetes=release.resolve(wanted.version, wanted.mirrors)), downloaded
    if wanted.binaries == SOURCE:
        return Versions(kubernetes=versions.resolve(wanted.version, versions.served_releases(cache))), built
    chosen = Versions(kubernetes=_auto_version(wanted, cache))
    for candidate in candidates:
        if cached(chosen, candidate):
            return chosen, candidate
    try:
        release.probe(wanted.mirrors, chosen.kubernetes, chosen.etcd)
    except BuildError as error:
        status.info(f" • binaries: building from Go modules: the release files did not answer ({error})")
        return chosen, built
    status.info(f" • binaries: downloading the release files from {wanted.mirrors.kubernetes}")
    return chosen, downloaded


class CachedCheck(Protocol):
    def __call__(self, versions: Versions, binaries: Binaries) -> bool: ...


def _auto_version(wanted: Wanted, cache: Path) -> str:
    """The Go module proxy's list (kept a day, so a cached run asks nobody), else the release mirror's."""
    try:
        return versions.resolve(wanted.version, versions.served_releases(cache))
    except BuildError as proxy_error:
        try:
            return release.resolve(wanted.version, wanted.mirrors)
        except BuildError as release_error:
            raise BuildError(
                f"cannot resolve Kubernetes {wanted.version or 'latest'}: the Go module proxy: {proxy_error}; "
                f"the release files: {release_error}"
            ) from release_error


def _version_of(binary: Path) -> str:
    """`v1.37.2` from `Kubernetes v1.37.2`, `etcd Version: 3.7.3`, `cri-dockerd 0.4.3 (HEAD)`."""
    command = [str(binary), "version", "--client"] if binary.name == "kubectl" else [str(binary), "--version"]
    try:
        output = subprocess.run(command, capture_output=True, text=True, timeout=VERSION_TIMEOUT, check=True).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise BuildError(f"failed to read the version of {binary}: {error}") from error
    found = re.search(r"v?(\d+\.\d+\.\d+)", output)
    if found is None:
        raise BuildError(f"{binary} printed no version: {output.strip()[:200]!r}")
    return f"v{found[1]}"


def _code_hash(*modules: object) -> str:
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())  # type: ignore[attr-defined]
    return digest.hexdigest()[:16]
