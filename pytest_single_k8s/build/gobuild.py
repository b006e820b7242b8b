"""Builds static Go programs from modules served by the Go module proxy.

Each program gets a generated wrapper module (go.mod, plus our own main.go where
we have one) under the cache directory; the go command's own module and build
caches make a second build of the same inputs cheap.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..common.process import run_streaming
from ..common.progress import Status
from . import goproxy, toolchain

KUBERNETES_MODULE = "k8s.io/kubernetes"
ETCD_MODULE = "go.etcd.io/etcd/server/v3"
CRI_DOCKERD_MODULE = "github.com/Mirantis/cri-dockerd"
COREDNS_MODULE = "github.com/coredns/coredns"
LOCAL_PATH_MODULE = "github.com/rancher/local-path-provisioner"


@dataclass(frozen=True)
class GoProgram:
    """One binary: the module it comes from, how to wrap it and how to stamp it."""

    name: str
    module: str = ""  # empty: a program of ours with no dependency (pause)
    version: str = ""
    go: str = "1.22"
    main_source: Path | None = None  # our main.go; None builds the module's own root main
    replaces: tuple[str, ...] = ()
    ldflags: tuple[str, ...] = field(default=())
    command: str = ""  # the main package's folder in the module, where it is not the module's root

    def go_mod(self) -> str:
        lines = [f"module pytest-single-k8s/{self.name}", "", f"go {self.go}"]
        if self.module:
            lines += ["", f"require {self.module} {self.version}"]
        if self.replaces:
            lines += ["", "replace (", *(f"\t{line}" for line in self.replaces), ")"]
        return "\n".join(lines) + "\n"

    def label(self, separator: str) -> str:
        """name and version, e.g. 'kube v1.37.2' (just the name for pause)."""
        return separator.join(filter(None, (self.name, self.version)))

    def package(self) -> str:
        return "." if self.main_source else "/".join(filter(None, (self.module, self.command)))


def kubernetes(version: str, main_source: Path) -> GoProgram:
    """All Kubernetes components as one multi-call binary (see images/kubernetes/main.go).

    k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them
    with directories of its own tree; a wrapper maps each to its published
    v0.X.Y instead.
    """
    go_mod = goproxy.go_mod(KUBERNETES_MODULE, version)
    staging = "v0." + version.removeprefix("v1.")
    major, minor = version.removeprefix("v").split(".")[:2]
    stamps = {"gitVersion": version, "gitMajor": major, "gitMinor": minor, "gitTreeState": "clean"}
    return GoProgram(
        name="kube",
        module=KUBERNETES_MODULE,
        version=version,
        go=goproxy.go_directive(go_mod),
        main_source=main_source,
        replaces=tuple(f"{m} => {m} {staging}" for m in goproxy.zero_version_requirements(go_mod)),
        ldflags=tuple(
            f"-X {package}.{name}={value}"
            for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
            for name, value in stamps.items()
        ),
    )


def etcd(version: str, main_source: Path) -> GoProgram:
    go_mod = goproxy.go_mod(ETCD_MODULE, version)
    return GoProgram(
        name="etcd", module=ETCD_MODULE, version=version, go=goproxy.go_directive(go_mod), main_source=main_source
    )


def released(
    name: str,
    module: str,
    version: str,
    main_source: Path | None = None,
    stamps: dict[str, str] | None = None,
    command: str = "",
) -> GoProgram:
    """A program from a module's release; its go.mod's replace block is repeated, since replaces
    apply only in the main module (the wrapper). `stamps`: -X package.variable=value."""
    go_mod = goproxy.go_mod(module, version)
    return GoProgram(
        name=name,
        module=module,
        version=version,
        go=goproxy.go_directive(go_mod),
        main_source=main_source,
        replaces=tuple(goproxy.replace_block(go_mod)),
        ldflags=tuple(f"-X {variable}={value}" for variable, value in (stamps or {}).items()),
        command=command,
    )


def cri_dockerd(version: str) -> GoProgram:
    """cri-dockerd's go.mod pins old k8s.io modules by replace."""
    stamp = {f"{CRI_DOCKERD_MODULE}/cmd/version.Version": version.removeprefix("v")}
    return released("cri-dockerd", CRI_DOCKERD_MODULE, version, stamps=stamp)


def coredns(version: str, main_source: Path) -> GoProgram:
    """CoreDNS with the plugins our Corefile uses (images/coredns/main.go)."""
    return released("coredns", COREDNS_MODULE, version, main_source)


def local_path_provisioner(version: str) -> GoProgram:
    return released("local-path-provisioner", LOCAL_PATH_MODULE, version, stamps={"main.VERSION": version})


def build(program: GoProgram, out_dir: Path, work_root: Path, status: Status) -> Path:
    """Build `program` into out_dir/<name>; returns the binary's path."""
    go = toolchain.choose(program.go, status)
    work = work_root / program.label("-")
    work.mkdir(parents=True, exist_ok=True)
    (work / "go.mod").write_text(program.go_mod())
    if program.main_source is not None:
        shutil.copyfile(program.main_source, work / "main.go")
    env = {**os.environ, **dict(go.env), "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
    # The binary stays in the work directory: go build skips the link when its
    # build ID shows it is up to date, so rebuilding an image costs no relink.
    binary = work / program.name
    title = f"Building {program.label(' ')} from Go modules"
    with status.step(title) as step:
        step.update(f"resolving modules with {go.describe()}")
        on_line = progress(step.update)
        # tidy would drop a requirement that no file of ours imports, so a
        # module's own main is required with `go get` instead.
        resolve = ["mod", "tidy"] if program.main_source else ["get", f"{program.module}@{program.version}"]
        run_streaming([go.command, *resolve], program.name, on_line, cwd=work, env=env)
        command = [go.command, "build", "-v", "-trimpath", "-ldflags", " ".join(("-s", "-w", *program.ldflags))]
        run_streaming([*command, "-o", str(binary), program.package()], program.name, on_line, cwd=work, env=env)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(binary, out_dir / program.name)
    return out_dir / program.name


def progress(report: Callable[[str], None]) -> Callable[[str], None]:
    """Turn `go build -v` / `go mod` output into progress: packages compiled, modules fetched."""
    compiled = 0

    def on_line(line: str) -> None:
        nonlocal compiled
        if line.startswith("go: downloading"):
            report(line.removeprefix("go: "))
        elif line and not line.startswith(("go:", "#", " ")):
            compiled += 1
            report(f"compiled {compiled} packages, now {line}")

    return on_line
