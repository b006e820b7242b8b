"""A Go toolchain where none is installed: the golang.org/toolchain module from the Go module proxy, as
the go command itself fetches one (GOTOOLCHAIN). Its zip must hash (h1:, as go.sum's) to the Go checksum
database's record of it, read through the same proxy's /sumdb/ endpoint as the go command reads it (the
record, not the signed tree's proof of it: the proxy is trusted as far as its TLS), and it is unpacked once,
under the cache directory, one fetch at a time.

The builds need the proxy anyway (their modules come from it), so this adds no place to reach.
"""

from __future__ import annotations

import base64
import hashlib
import os
import platform
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import filelock

from ..common.progress import Status
from ..errors import BuildError
from . import downloads, goproxy
from .machine import ARCHITECTURES

MODULE = "golang.org/toolchain"
RELEASE = re.compile(r"^v0\.0\.1-go(\d+\.\d+\.\d+)\.(\w+-\w+)$")  # releases only: no rc, no beta
SUMDB = "sum.golang.org"
EXECUTABLE = ("bin/", "pkg/tool/")  # the zip records no modes: these are the programs, as the go command knows


def platform_name() -> str:
    """This machine's toolchain platform, e.g. linux-amd64 (it runs here; what it builds is set apart)."""
    system, machine = sys.platform, platform.machine()
    if system not in ("linux", "darwin") or machine not in ARCHITECTURES:
        raise BuildError(f"no Go toolchain is published for this machine ({system}, {machine}): install Go")
    return f"{system}-{ARCHITECTURES[machine]}"


def installed(folder: Path, needed: tuple[int, ...]) -> Path | None:
    """The newest toolchain for this machine unpacked under `folder` that is at least `needed`: its root (GOROOT).
    (The folder may be shared by machines: each root is named for its platform.)"""
    suffix = f".{platform_name()}"
    roots = [
        (_version(root.name.removesuffix(suffix)), root)
        for root in folder.glob(f"go*{suffix}")
        if (root / "bin" / "go").is_file()
    ]
    usable = [(version, root) for version, root in roots if version >= needed]
    return max(usable)[1] if usable else None


def fetch(needed: tuple[int, ...], folder: Path, status: Status) -> Path:
    """The newest released toolchain for this machine, checked and unpacked under `folder`: its root. One
    session fetches at a time; what a killed one left is removed first."""
    if not goproxy.names_a_proxy():
        raise BuildError(
            f"no Go toolchain here, and GOPROXY={os.environ.get('GOPROXY')} names no proxy to fetch one from: "
            "install Go, or pip install 'pytest-single-k8s[source]'"
        )
    folder.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(str(folder / ".lock")):
        if found := installed(folder, needed):  # another session fetched it meanwhile
            return found
        for stale in folder.glob(".fetch-*"):  # a killed fetch's
            shutil.rmtree(stale, ignore_errors=True)
        return _fetched(needed, folder, status)


def _fetched(needed: tuple[int, ...], folder: Path, status: Status) -> Path:
    name = platform_name()
    listed = [found for line in goproxy.fetch(MODULE, "list").split() if (found := RELEASE.match(line))]
    versions = [found[1] for found in listed if found[2] == name]
    newest = max(versions, key=_version, default=None)
    if newest is None or _version(newest) < needed:
        raise BuildError(
            f"the Go module proxy ({goproxy.proxy_url()}) has no Go toolchain for {name} of at least "
            f"{'.'.join(map(str, needed))}: install Go, or pip install 'pytest-single-k8s[source]'"
        )
    version = f"v0.0.1-go{newest}.{name}"
    url = f"{goproxy.proxy_url()}/{goproxy.escape(MODULE)}/@v/{version}.zip"
    expected = _recorded(version)
    root = folder / f"go{newest}.{name}"
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=folder) as scratch:
        with status.step(f"Downloading Go {newest} from the Go module proxy (no Go toolchain here)") as step:
            archive = downloads.fetch(url, Path(scratch) / f"go{newest}.zip", lambda zip_: _check(zip_, expected, url),
                                      step.update)  # fmt: skip
            step.update("unpacking")
            unpacked = _unpack(archive, f"{MODULE}@{version}/", Path(scratch) / "root")
        shutil.rmtree(root, ignore_errors=True)  # an older layout's, or one a crash left without its go
        unpacked.rename(root)
    return root


def hash1(archive: Path) -> str:
    """The go command's hash of a module zip (`h1:`): SHA-256 over its files' SHA-256 lines, sorted by name
    (module zips hold no directory entries; any is left out)."""
    with zipfile.ZipFile(archive) as zip_:
        files = sorted(info.filename for info in zip_.infolist() if not info.is_dir())
        summary = "".join(f"{hashlib.sha256(zip_.read(name)).hexdigest()}  {name}\n" for name in files)
    return "h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode()


def _recorded(version: str) -> str | None:
    """The checksum database's `h1:` of the module version; None where GOSUMDB=off says not to ask."""
    if os.environ.get("GOSUMDB") == "off":
        return None
    url = f"{goproxy.proxy_url()}/sumdb/{SUMDB}/lookup/{MODULE}@{version}"
    try:
        text = downloads.read_text(url)
    except BuildError as error:
        raise BuildError(
            f"cannot check the Go toolchain against the Go checksum database: {error}. Install Go, or "
            "pip install 'pytest-single-k8s[source]', or set GOSUMDB=off to take the proxy's word"
        ) from error
    for line in text.splitlines():
        if line.split()[:2] == [MODULE, version] and len(line.split()) == 3:
            return line.split()[2]
    raise BuildError(f"the Go checksum database has no record of {MODULE}@{version} ({url})")


def _check(archive: Path, expected: str | None, url: str) -> None:
    if expected is None:
        return
    try:
        actual = hash1(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise BuildError(f"refused the Go toolchain from {url}: not a zip ({error}); the file was deleted") from error
    if actual != expected:
        raise BuildError(
            f"refused the Go toolchain from {url}: its hash is {actual}, the Go checksum database records "
            f"{expected}; the file was deleted"
        )


def _unpack(archive: Path, prefix: str, into: Path) -> Path:
    """The zip's files under `prefix`, written below `into`, the programs executable."""
    with zipfile.ZipFile(archive) as zip_:
        for info in zip_.infolist():
            relative = Path(info.filename.removeprefix(prefix))
            if info.is_dir() or str(relative) == info.filename or relative.is_absolute() or ".." in relative.parts:
                continue  # a directory, or outside the module: never written
            target = into / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with zip_.open(info) as source, target.open("wb") as out:
                shutil.copyfileobj(source, out)
            target.chmod(0o755 if str(relative).startswith(EXECUTABLE) else 0o644)
    return into


def _version(release: str) -> tuple[int, ...]:
    """(1, 27, 4) from a release RELEASE matched, 1.27.4, or its folder, go1.27.4."""
    return tuple(int(part) for part in release.removeprefix("go").split("."))
