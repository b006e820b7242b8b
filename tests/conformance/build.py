"""Kubernetes' e2e suite and the programs of its images, built from the Go module proxy.

`e2e.test` is the test binary of k8s.io/kubernetes/test/e2e. It is built in a wrapper module
whose go.mod is the one the kube build resolved (pytest_single_k8s/build/gobuild.py), where that
build ran here: the same module versions make Go's build cache serve both, so only the e2e
packages compile (about 230 of 2,600). kubectl comes out of the cluster's own kubernetes image:
e2e.test runs it on this host.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import docker

from pytest_single_k8s.build import gobuild, toolchain
from pytest_single_k8s.common.paths import cache_dir
from pytest_single_k8s.common.process import run_streaming
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.engine.containers import image_file

E2E_PACKAGE = "k8s.io/kubernetes/test/e2e"
# The programs of the e2e images, and ginkgo's command, which runs e2e.test in parallel processes.
PROGRAMS = {
    "agnhost": "k8s.io/kubernetes/test/images/agnhost",
    "nonewprivs": "k8s.io/kubernetes/test/images/nonewprivs",
    "sample-apiserver": "k8s.io/sample-apiserver",
    "ginkgo": "github.com/onsi/ginkgo/v2/ginkgo",
}


def binaries(version: str, client: docker.DockerClient, kubernetes_image: str, status: Status) -> Path:
    """A directory with e2e.test, kubectl and PROGRAMS for Kubernetes `version`; built once per version."""
    work = cache_dir() / "go" / f"e2e-{version}"
    (work / "bin").mkdir(parents=True, exist_ok=True)
    _wrapper(work, version)
    program = gobuild.kubernetes(version, work / "unused.go")
    go = toolchain.choose(program.go)
    env = {**os.environ, **dict(go.env), "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
    flags = ["-trimpath", "-ldflags", " ".join(("-s", "-w", *program.ldflags))]
    with status.step(f"Building Kubernetes' e2e suite {version} and its images' programs from Go modules") as step:
        on_line = gobuild.progress(step.update)
        test = [go.command, "test", "-c", "-v", "-vet=off", *flags, "-o", "bin/e2e.test", E2E_PACKAGE]
        run_streaming(test, "e2e.test", on_line, cwd=work, env=env)
        build = [go.command, "build", "-v", "-trimpath", "-ldflags", "-s -w", "-o", "bin/", *PROGRAMS.values()]
        run_streaming(build, "the e2e programs", on_line, cwd=work, env=env)
    kubectl = work / "bin" / "kubectl"
    if not kubectl.exists():  # the multi-call binary runs as the name it has
        kubectl.write_bytes(image_file(client, kubernetes_image, "/usr/local/bin/kubectl"))
        kubectl.chmod(0o755)
    return work / "bin"


def _wrapper(work: Path, version: str) -> None:
    """The wrapper's go.mod, once (go adds what e2e needs beyond it): the kube build's, where it ran here
    (so that Go's build cache serves both), else made the way the kube build makes its own."""
    if (work / "go.mod").exists():
        return
    kube = cache_dir() / "go" / f"kube-{version}"
    if (kube / "go.mod").exists() and (kube / "go.sum").exists():
        go_mod = re.sub(r"^module .*$", "module pytest-single-k8s/e2e", (kube / "go.mod").read_text(), flags=re.M)
        (work / "go.sum").write_bytes((kube / "go.sum").read_bytes())
    else:
        go_mod = gobuild.kubernetes(version, work / "unused.go").go_mod().replace("/kube\n", "/e2e\n", 1)
    (work / "go.mod").write_text(go_mod)


def module_dir(version: str) -> Path:
    """Where the go command keeps the Kubernetes module's files (test/images: certificates, pages)."""
    go = toolchain.choose(gobuild.kubernetes(version, Path("unused.go")).go)
    env = {**os.environ, **dict(go.env)}
    cache = subprocess.run([go.command, "env", "GOMODCACHE"], capture_output=True, text=True, env=env, check=True)
    return Path(cache.stdout.strip()) / f"{gobuild.KUBERNETES_MODULE}@{version}"
