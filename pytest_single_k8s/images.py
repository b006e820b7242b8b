"""The cluster's images, built here from images/ and cached under content-addressed tags.

Every tag is a hash of all inputs of its image: the recipe files, the versions
it is built from, the code that builds it and its parent's tag. An image whose
tag exists is never rebuilt, so a cached check costs one Docker listing.

    debian      Debian rootfs (mmdebstrap + docker import): the userland of the rest
    pause       our pause program, FROM scratch
    etcd        etcd, FROM debian
    kubernetes  the multi-call kube binary + cri-dockerd, FROM debian
    nginx       Debian's nginx, FROM debian (the example's workload)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import filelock

from . import gobuild, goproxy
from .components import LABEL

VERSION_LABEL = f"{LABEL}.kubernetes-version"
from .commands import run_streaming
from .errors import BuildError
from .paths import cache_dir, recipes_dir
from .progress import Status

REPOSITORY = "pytest-single-k8s"
NAMES = ("debian", "pause", "etcd", "kubernetes", "nginx")
SUITE = "bookworm"
MMDEBSTRAP_OPTIONS = ("--variant=minbase", "--dpkgopt=path-exclude=/usr/share/doc/*",
                      "--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/locale/*")
KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl")
_BUILD_CODE = (Path(gobuild.__file__), Path(goproxy.__file__))


@dataclass(frozen=True)
class Versions:
    """What the images are built from. kubernetes is a resolved release tag."""

    kubernetes: str
    etcd: str = "v3.7.3"
    cri_dockerd: str = "v0.4.3"


@dataclass(frozen=True)
class CachedImage:
    name: str
    ref: str
    size: int | None  # bytes, None when not built yet


class Images:
    def __init__(self, client: docker.DockerClient, versions: Versions, status: Status | None = None,
                 recipes: Path | None = None, cache: Path | None = None) -> None:
        self.client = client
        self.versions = versions
        self.status = status or Status()
        self.recipes = recipes or recipes_dir()
        self.cache = cache or cache_dir()
        self._refs: dict[str, str] = {}

    # -- tags ---------------------------------------------------------------

    def ref(self, name: str) -> str:
        """pytest-single-k8s/<name>:<hash of every input>."""
        if name not in self._refs:
            self._refs[name] = self._compute_ref(name)
        return self._refs[name]

    def _compute_ref(self, name: str) -> str:
        digest = hashlib.sha256()
        inputs: dict[str, str] = {"name": name, "files": _hash_files(self.recipes, self._files(name))}
        if name == "debian":
            inputs["rootfs"] = " ".join((*MMDEBSTRAP_OPTIONS, SUITE))
        if name in ("etcd", "kubernetes", "nginx"):
            inputs["parent"] = self.ref("debian")
        if name == "etcd":
            inputs["etcd"] = self.versions.etcd
        if name == "kubernetes":
            inputs["kubernetes"] = self.versions.kubernetes
            inputs["cri-dockerd"] = self.versions.cri_dockerd
        digest.update(json.dumps(inputs, sort_keys=True).encode())
        return f"{REPOSITORY}/{name}:{digest.hexdigest()[:16]}"

    def _files(self, name: str) -> list[Path]:
        files = sorted(p for p in (self.recipes / name).rglob("*") if p.is_file())
        return files + list(_BUILD_CODE) if name in ("pause", "etcd", "kubernetes") else files

    # -- state --------------------------------------------------------------

    def listing(self) -> list[CachedImage]:
        present = {
            tag: image.attrs["Size"]
            for image in self.client.images.list(filters={"label": LABEL})
            for tag in image.tags
        }
        return [CachedImage(name, self.ref(name), present.get(self.ref(name))) for name in NAMES]

    def stale(self) -> list[str]:
        """Our image tags that no current recipe produces. Kubernetes images of other
        versions are kept: they are another version's cache, not stale."""
        current = {self.ref(name) for name in NAMES}
        found = []
        for image in self.client.images.list(filters={"label": LABEL}):
            other_version = image.labels.get(VERSION_LABEL, self.versions.kubernetes) != self.versions.kubernetes
            found += [tag for tag in image.tags if tag.startswith(f"{REPOSITORY}/") and tag not in current
                      and not other_version]
        return sorted(found)

    def prune(self) -> list[str]:
        """Remove the stale tags (see stale()); returns what was removed. Tags in use stay."""
        removed = []
        for tag in self.stale():
            try:
                self.client.images.remove(tag)
                removed.append(tag)
            except docker.errors.APIError as error:
                if error.status_code != 409:  # 409: a container still uses it
                    raise
        return removed

    def _labels(self, name: str) -> dict[str, str]:
        labels = {LABEL: name}
        if name == "kubernetes":
            labels[VERSION_LABEL] = self.versions.kubernetes
        return labels

    def missing(self) -> list[str]:
        return [image.name for image in self.listing() if image.size is None]

    # -- building -----------------------------------------------------------

    def ensure(self, names: tuple[str, ...] = NAMES) -> dict[str, str]:
        """Build whatever of `names` (and their parents) is missing; return their refs.

        Builds are serialised across processes (pytest-xdist workers, parallel
        sessions) by a file lock: the second finds what the first built.
        """
        wanted = set(names) | ({"debian"} if set(names) & {"etcd", "kubernetes", "nginx"} else set())
        if wanted & set(self.missing()):
            self.cache.mkdir(parents=True, exist_ok=True)
            with filelock.FileLock(str(self.cache / "build.lock")):
                missing = set(self.missing())
                for name in NAMES:  # NAMES is in build order: parents first
                    if name in wanted and name in missing:
                        getattr(self, f"_build_{name}")()
        return {name: self.ref(name) for name in names}

    def _build_debian(self) -> None:
        if shutil.which("mmdebstrap") is None:
            raise BuildError(
                "failed to build the debian image: mmdebstrap is not installed "
                "(`apt-get install mmdebstrap`, or run pytest_single_k8s/host/setup.sh)"
            )
        packages = [
            line.strip() for line in (self.recipes / "debian" / "packages").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        ref = self.ref("debian")
        with self.status.step(f"Building {ref} (Debian {SUITE} rootfs)") as step, self._scratch() as tmp:
            rootfs = Path(tmp) / "rootfs.tar"
            command = ["mmdebstrap", *MMDEBSTRAP_OPTIONS, f"--include={','.join(packages)}", SUITE, str(rootfs)]
            run_streaming(command, "the debian image", lambda line: step.update(line[:100]))
            step.update("docker import")
            repository, tag = ref.split(":")
            self.client.api.import_image_from_file(
                str(rootfs), repository=repository, tag=tag,
                changes=[f"LABEL {LABEL}=debian", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            )
        self._check_built("debian")

    def _build_pause(self) -> None:
        program = gobuild.GoProgram(name="pause", main_source=self.recipes / "pause" / "main.go")
        self._build_from_go("pause", [program])

    def _build_etcd(self) -> None:
        program = gobuild.etcd(self.versions.etcd, self.recipes / "etcd" / "main.go")
        self._build_from_go("etcd", [program])

    def _build_kubernetes(self) -> None:
        programs = [
            gobuild.kubernetes(self.versions.kubernetes, self.recipes / "kubernetes" / "main.go"),
            gobuild.cri_dockerd(self.versions.cri_dockerd),
        ]
        self._build_from_go("kubernetes", programs, links={c: "kube" for c in KUBE_COMMANDS})

    def _build_nginx(self) -> None:
        with self._scratch() as context:
            self._docker_build("nginx", Path(context))

    def _build_from_go(self, name: str, programs: list[gobuild.GoProgram], links: dict[str, str] | None = None) -> None:
        with self._scratch() as context:
            bin_dir = Path(context) / "bin"
            for program in programs:
                gobuild.build(program, bin_dir, self.cache / "go", self.status)
            for link, target in (links or {}).items():
                os.symlink(target, bin_dir / link)
            self._docker_build(name, Path(context))

    def _docker_build(self, name: str, context: Path) -> None:
        shutil.copytree(self.recipes / name, context, dirs_exist_ok=True)
        ref = self.ref(name)
        with self.status.step(f"Building {ref}") as step:
            output = self.client.api.build(
                path=str(context), tag=ref, rm=True, forcerm=True, decode=True,
                buildargs={"BASE": self.ref("debian")}, labels=self._labels(name),
            )
            log: list[str] = []
            for chunk in output:
                if "error" in chunk:
                    raise BuildError(f"failed to build {ref}: {chunk['error'].strip()}\n" + "".join(log[-20:]))
                if chunk.get("stream", "").strip():
                    log.append(chunk["stream"])
                    step.update(chunk["stream"].strip()[:100])
        self._check_built(name)

    def _check_built(self, name: str) -> None:
        try:
            self.client.images.get(self.ref(name))
        except docker.errors.ImageNotFound as error:
            raise BuildError(f"failed to build {self.ref(name)}: the engine does not list it afterwards") from error

    def _scratch(self) -> tempfile.TemporaryDirectory:
        self.cache.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryDirectory(prefix="build-", dir=self.cache)


def _hash_files(recipes: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        name = path.relative_to(recipes) if path.is_relative_to(recipes) else Path(path.name)
        digest.update(f"{name}\0{path.stat().st_mode & 0o111:o}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()
