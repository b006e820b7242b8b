"""What each image is built from, as data: one table, in build order (parents first).

    debian      Debian rootfs (mmdebstrap + docker import): the userland of the rest
    pause       our pause program, FROM scratch
    etcd        etcd, FROM debian
    kubernetes  the Kubernetes commands, cri-dockerd and our reaper, FROM debian
    nginx       Debian's nginx, FROM debian (the example's workload)
    coredns     CoreDNS with the plugins cluster DNS uses, FROM scratch (the dns addon)
    local-path-provisioner  Rancher's local-path provisioner, FROM scratch (the storage addon)

A recipe's folder under images/ holds its Dockerfile (or, for the rootfs, its
package list) and our Go sources; every file there goes into the image's tag.
The upstream binaries (Kubernetes, etcd, cri-dockerd) come from the source
--k8s-binaries chooses: release files, a Go module build or a directory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import gobuild

KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl")
ETCD, CRI_DOCKERD = "etcd", "cri-dockerd"
UPSTREAM = (*KUBE_COMMANDS, ETCD, CRI_DOCKERD)  # the binaries --k8s-binaries provides (binaries.py)


@dataclass(frozen=True)
class Versions:
    """What the images are built from. kubernetes is a resolved release tag."""

    kubernetes: str
    etcd: str = "v3.7.3"
    cri_dockerd: str = "v0.4.3"
    coredns: str = "v1.15.0"
    local_path_provisioner: str = "v0.0.30"
    pause: str = "3.10.1"  # the official image's tag (bases.official); ours is built from our own source


@dataclass(frozen=True)
class Recipe:
    name: str
    parent: str | None = None  # an image of ours it is built FROM; None: scratch, or a rootfs
    rootfs: bool = False  # made by mmdebstrap and `docker import` instead of `docker build`
    pinned: Callable[[Versions], dict[str, str]] = lambda versions: {}  # versions that go into the tag
    programs: Callable[[Versions, Path], list[gobuild.GoProgram]] | None = None  # our Go programs for bin/
    upstream: tuple[str, ...] = ()  # upstream binaries for bin/, from the chosen source (binaries.py)


RECIPES = (
    Recipe("debian", rootfs=True),
    Recipe("pause", programs=lambda versions, folder: [gobuild.GoProgram("pause", main_source=folder / "main.go")]),
    Recipe(
        "etcd",
        parent="debian",
        pinned=lambda versions: {"etcd": versions.etcd},
        upstream=(ETCD,),
    ),
    Recipe(
        "kubernetes",
        parent="debian",
        pinned=lambda versions: {"kubernetes": versions.kubernetes, "cri-dockerd": versions.cri_dockerd},
        programs=lambda versions, folder: [gobuild.GoProgram("reaper", main_source=folder / "reaper" / "main.go")],
        upstream=(*KUBE_COMMANDS, CRI_DOCKERD),
    ),
    Recipe("nginx", parent="debian"),
    Recipe(
        "coredns",
        pinned=lambda versions: {"coredns": versions.coredns},
        programs=lambda versions, folder: [gobuild.coredns(versions.coredns, folder / "main.go")],
    ),
    Recipe(
        "local-path-provisioner",
        pinned=lambda versions: {"local-path-provisioner": versions.local_path_provisioner},
        programs=lambda versions, folder: [gobuild.local_path_provisioner(versions.local_path_provisioner)],
    ),
)
BY_NAME = {recipe.name: recipe for recipe in RECIPES}
NAMES = tuple(BY_NAME)
