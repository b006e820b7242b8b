"""The official release files of Kubernetes, etcd and cri-dockerd, from their sites or a mirror of them.

    Kubernetes   <kubernetes>/<version>/bin/linux/<arch>/<name>, <name>.sha256 beside it;
                 <kubernetes>/stable.txt and stable-<major>.<minor>.txt name the newest releases
    etcd         <etcd>/<version>/etcd-<version>-linux-<arch>.tar.gz, SHA256SUMS beside it
    cri-dockerd  <cri_dockerd>/<version>/cri-dockerd-<version without v>.<arch>.tgz, checked against
                 a .sha256 beside it where a mirror provides one, else the checksum pinned below

A mirror is any HTTP(S) server with the same layout, such as a folder served
by `python -m http.server`. Every file is verified before it is used.
"""

from __future__ import annotations

import platform
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError, VersionError
from . import downloads, versions
from .machine import ARCHITECTURES

PROBE_TIMEOUT = 5.0  # seconds: an offline host must fall back at once, never hang
# SHA-256 of cri-dockerd's release archives (its releases publish no checksum file), by (version, arch).
# Only checksums confirmed against the archive itself belong here; none of v0.4.3's could be confirmed
# yet, and a version without one is built from Go modules instead (binaries.FromRelease).
CRI_DOCKERD_SHA256: dict[tuple[str, str], str] = {}


class NoChecksum(BuildError):
    """A release file has no checksum to verify it against: it is not used."""


@dataclass(frozen=True)
class Mirrors:
    """Base URLs of the release files; the defaults are the official sites."""

    kubernetes: str = "https://dl.k8s.io/release"
    etcd: str = "https://github.com/etcd-io/etcd/releases/download"
    cri_dockerd: str = "https://github.com/Mirantis/cri-dockerd/releases/download"

    def kubernetes_file(self, version: str, name: str) -> str:
        return f"{self.kubernetes.rstrip('/')}/{version}/bin/linux/{architecture()}/{name}"

    def etcd_archive(self, version: str) -> str:
        return f"{self.etcd.rstrip('/')}/{version}/etcd-{version}-linux-{architecture()}.tar.gz"

    def cri_dockerd_archive(self, version: str) -> str:
        return f"{self.cri_dockerd.rstrip('/')}/{version}/cri-dockerd-{version.removeprefix('v')}.{architecture()}.tgz"


def architecture() -> str:
    machine = platform.machine()
    if machine not in ARCHITECTURES:
        raise BuildError(f"no release binaries for this machine ({machine}): use --k8s-binaries source")
    return ARCHITECTURES[machine]


def resolve(requested: str | None, mirrors: Mirrors, timeout: float = PROBE_TIMEOUT) -> str:
    """The release a request names, as the mirror has it: a minor's newest patch is its stable-X.Y.txt."""
    wanted = versions.parse_request(requested)
    if wanted is None:
        url = f"{mirrors.kubernetes.rstrip('/')}/stable.txt"
    elif wanted[2] is None:
        url = f"{mirrors.kubernetes.rstrip('/')}/stable-{wanted[0]}.{wanted[1]}.txt"
    else:
        release = versions.tag((wanted[0], wanted[1], wanted[2]))
        _digest(mirrors.kubernetes_file(release, "kube-apiserver") + ".sha256", timeout)
        return release
    text = downloads.read_text(url, timeout).strip()
    found = versions.parse_release(text)
    if found is None or (wanted is not None and found[:2] != wanted[:2]):
        raise VersionError(f"{url} names no Kubernetes release of the request {requested!r}: {text[:80]!r}")
    if found[:2] < versions.MINIMUM:
        raise VersionError(f"{url} names {text}, older than the {versions.minimum()} pytest-single-k8s needs")
    return versions.tag(found)


def probe(mirrors: Mirrors, version: str, etcd: str) -> None:
    """Raise BuildError unless the sites answer for this release's files (each read times out after
    PROBE_TIMEOUT seconds without an answer)."""
    _digest(mirrors.kubernetes_file(version, "kube-apiserver") + ".sha256", PROBE_TIMEOUT)
    downloads.read_text(mirrors.etcd_archive(etcd).rsplit("/", 1)[0] + "/SHA256SUMS", PROBE_TIMEOUT)


def fetch_kubernetes(
    mirrors: Mirrors, version: str, names: tuple[str, ...], into: Path, progress: Callable[[str], None]
) -> None:
    for name in names:
        url = mirrors.kubernetes_file(version, name)
        _executable(downloads.download(url, into / name, _digest(url + ".sha256"), progress))


def fetch_etcd(mirrors: Mirrors, version: str, into: Path, scratch: Path, progress: Callable[[str], None]) -> None:
    url = mirrors.etcd_archive(version)
    archive_name = url.rsplit("/", 1)[1]
    sums_url = url.rsplit("/", 1)[0] + "/SHA256SUMS"
    sha256 = downloads.digest_in(downloads.read_text(sums_url), sums_url, archive_name)
    archive = downloads.download(url, scratch / archive_name, sha256, progress)
    _extract(archive, f"{archive_name.removesuffix('.tar.gz')}/etcd", into / "etcd")


def fetch_cri_dockerd(
    mirrors: Mirrors, version: str, into: Path, scratch: Path, progress: Callable[[str], None]
) -> None:
    url = mirrors.cri_dockerd_archive(version)
    try:
        sha256 = _digest(url + ".sha256")
    except downloads.NotFound as missing:  # anything else (a timeout, a 5xx) is an error, not a fallback
        sha256 = CRI_DOCKERD_SHA256.get((version, architecture()), "")
        if not sha256:
            raise NoChecksum(
                f"no checksum for cri-dockerd {version} ({architecture()}): none is pinned in "
                f"pytest-single-k8s and {url}.sha256 could not be read ({missing})"
            ) from missing
    archive = downloads.download(url, scratch / url.rsplit("/", 1)[1], sha256, progress)
    _extract(archive, "cri-dockerd/cri-dockerd", into / "cri-dockerd")


def _digest(url: str, timeout: float = downloads.READ_TIMEOUT) -> str:
    return downloads.digest_in(downloads.read_text(url, timeout), url)


def _extract(archive: Path, member: str, destination: Path) -> None:
    """One regular file out of a release archive (names are checked: nothing lands outside `destination`)."""
    with tarfile.open(archive) as tar:
        try:
            info = tar.getmember(member)
        except KeyError:
            raise BuildError(f"{archive.name} holds no {member}") from None
        source = tar.extractfile(info) if info.isfile() else None
        if source is None:
            raise BuildError(f"{member} in {archive.name} is not a regular file")
        with source, destination.open("wb") as out:
            while chunk := source.read(downloads.CHUNK):
                out.write(chunk)
    _executable(destination)


def _executable(path: Path) -> None:
    path.chmod(0o755)
