"""The cluster's images, built here from images/ and cached under content-addressed tags.

Every tag is a hash of all inputs of its image: the recipe files, the versions
it is built from, the code that builds it and its parent's tag. An image whose
tag exists is never rebuilt, so a cached check costs one Docker listing. What
each image is made of is the table in recipes.py; this module only executes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import filelock

from ..common.paths import cache_dir, recipes_dir
from ..common.progress import Status
from ..engine.labels import BINARIES_LABEL, CLUSTER_LABEL, LABEL, PULLED_LABEL, REPOSITORY, VERSION_LABEL
from ..errors import BuildError
from . import bases, gobuild, goproxy, recipes, registry, rootfs
from . import binaries as sources
from .bases import Bases
from .recipes import BY_NAME, NAMES, Recipe, Versions
from .versions import parse_request
from .wanted import AUTO, Wanted

LEGACY_REPOSITORY = "pytest-single-k8s/"  # our images' names before they were local-only: stale everywhere
_BUILD_CODE = tuple(Path(module.__file__) for module in (gobuild, goproxy, recipes, rootfs))  # type: ignore[arg-type]


AS_IT_IS = "ARG BASE\nFROM ${BASE}\n"  # the Dockerfile of an image pulled as it is (bases.AS_THEY_ARE)


@dataclass(frozen=True)
class CachedImage:
    name: str
    ref: str
    size: int | None  # bytes, None when not built yet
    origin: str = ""  # where its upstream binaries or its base came from; empty: built here from images/


class Images:
    def __init__(
        self,
        client: docker.DockerClient,
        versions: Versions,
        status: Status | None = None,
        recipes: Path | None = None,
        cache: Path | None = None,
        binaries: sources.Binaries | None = None,
        bases: Bases | None = None,
        images_from: str | None = None,
    ) -> None:
        self.client = client
        self.versions = versions
        self.status = status or Status()
        self.recipes = recipes or recipes_dir()
        self.cache = cache or cache_dir()
        self.binaries = binaries or sources.FromGoModules(self.cache)
        self.bases = bases or Bases()
        self.images_from = images_from  # a registry holding the set (registry.py), pulled from before building
        self._refs: dict[str, str] = {}

    @classmethod
    def chosen(cls, client: docker.DockerClient, wanted: Wanted, status: Status | None = None) -> Images:
        """The images for a request: its version resolved, its binaries' source and its bases chosen
        (binaries.choose, bases.choose)."""
        status = status or Status()
        if wanted.binaries in (AUTO, sources.RELEASE, sources.SOURCE):
            parse_request(wanted.version)  # a malformed or unsupported request fails before any pull
        present = {tag for image in client.images.list(filters={"label": LABEL}) for tag in image.tags}

        def built(images: Images, names: set[str]) -> bool:
            """Here, or in the registry the set comes from: a candidate the registry holds wins as a cached one."""
            refs = [images.ref(name) for name in names]
            return all(ref in present or (wanted.images_from and registry.has(client, wanted.images_from, ref))
                       for ref in refs)  # fmt: skip

        upstream = {recipe.name for recipe in recipes.RECIPES if recipe.upstream}
        # The images bases decide (debian, nginx) hold no upstream binary: the version does not reach their tags.
        nothing = Versions(kubernetes="")
        chosen_bases = bases.choose(
            wanted.base_image,
            client,
            lambda candidate, name: built(cls(client, nothing, status, bases=candidate), {name}),
            status,
            nothing,  # the addons' and pause's versions: the Kubernetes version does not reach them
            wanted.registry_mirror,
        )
        versions, binaries = sources.choose(
            wanted,
            cache_dir(),
            lambda versions, source: built(
                cls(client, versions, status, binaries=source, bases=chosen_bases), upstream
            ),
            status,
        )
        return cls(client, versions, status, binaries=binaries, bases=chosen_bases, images_from=wanted.images_from)

    # -- tags ---------------------------------------------------------------

    def ref(self, name: str) -> str:
        """localhost/pytest-single-k8s/<name>:<hash of every input>."""
        if name not in self._refs:
            self._refs[name] = self._compute_ref(BY_NAME[name])
        return self._refs[name]

    def _compute_ref(self, recipe: Recipe) -> str:
        pulled = self.bases.origin(recipe.name)
        inputs = {
            "name": recipe.name,
            "files": _hash_files(self.recipes, self._files(recipe)),
            **recipe.pinned(self.versions),
            **(rootfs.inputs() if recipe.rootfs and not pulled else {}),
            **(self.binaries.tag_inputs() if recipe.upstream else {}),
        }
        if pulled:
            inputs["pulled"] = pulled
        elif recipe.parent:
            inputs["parent"] = self.ref(recipe.parent)
        digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode())
        return f"{REPOSITORY}/{recipe.name}:{digest.hexdigest()[:16]}"

    def _as_it_is(self, recipe: Recipe) -> bool:
        """Whether the recipe's image is an official one pulled as it is (bases.AS_THEY_ARE), not built here."""
        return recipe.name in bases.AS_THEY_ARE and bool(self.bases.origin(recipe.name))

    def _files(self, recipe: Recipe) -> list[Path]:
        if self._as_it_is(recipe):
            return []  # the pulled image is the image: no file of ours goes into it
        files = sorted(p for p in (self.recipes / recipe.name).rglob("*") if p.is_file())
        if recipe.rootfs and not self.bases.origin(recipe.name):
            files = [path for path in files if path.name != "Dockerfile"]  # the pulled way's recipe: unused
        return files + list(_BUILD_CODE) if recipe.programs else files

    def pulled_root(self, name: str) -> str | None:
        """The pulled image that `name`'s chain of parents starts from, if any (its label, for prune)."""
        recipe = BY_NAME.get(name)
        while recipe is not None:
            if origin := self.bases.origin(recipe.name):
                return origin
            recipe = BY_NAME[recipe.parent] if recipe.parent else None
        return None

    # -- state --------------------------------------------------------------

    def listing(self) -> list[CachedImage]:
        present = {tag: image for image in self.client.images.list(filters={"label": LABEL}) for tag in image.tags}
        listing = []
        for name in NAMES:
            image = present.get(self.ref(name))
            labels = image.labels if image is not None else {}
            origin = labels.get(BINARIES_LABEL) or (f"on {labels[PULLED_LABEL]}" if PULLED_LABEL in labels else "")
            listing.append(CachedImage(name, self.ref(name), image.attrs["Size"] if image else None, origin))
        return listing

    def missing(self) -> list[str]:
        return [image.name for image in self.listing() if image.size is None]

    def stale(self) -> list[str]:
        """Our image tags that no current recipe produces. Kubernetes images of other
        versions or binaries' sources are kept: they are another cache, not stale."""
        current = {self.ref(name) for name in NAMES}
        found = []
        for image in self.client.images.list(filters={"label": LABEL}):
            if CLUSTER_LABEL in image.labels:  # a cluster's sandbox image: its teardown removes it
                continue
            other_version = image.labels.get(VERSION_LABEL, self.versions.kubernetes) != self.versions.kubernetes
            kind = image.labels.get(BINARIES_LABEL, self.binaries.kind).split()[0]
            other_base = image.labels.get(PULLED_LABEL) != self.pulled_root(image.labels.get(LABEL, ""))
            found += [
                tag
                for tag in image.tags
                if tag.startswith((f"{REPOSITORY}/", LEGACY_REPOSITORY))
                and tag not in current
                and not other_version
                and kind == self.binaries.kind
                and not other_base
            ]
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

    # -- building -----------------------------------------------------------

    def ensure(self, names: tuple[str, ...] = NAMES) -> dict[str, str]:
        """Build whatever of `names` (and their parents) is missing; return their refs.

        Builds are serialised across processes (pytest-xdist workers, parallel
        sessions) by a file lock: the second says that it waits, then finds what the first built.
        """
        wanted = set(names) | {BY_NAME[name].parent for name in names if BY_NAME[name].parent}
        if wanted & set(self.missing()):
            self.cache.mkdir(parents=True, exist_ok=True)
            with _build_lock(self.cache / "build.lock", self.status):
                missing = set(self.missing())
                for name in NAMES:  # in build order: parents first
                    if name in wanted and name in missing and not self._pull_from_registry(name):
                        self._build(BY_NAME[name])
        return {name: self.ref(name) for name in names}

    def _pull_from_registry(self, name: str) -> bool:
        """Pulled from the registry the set comes from, if one is set and it holds the image."""
        return self.images_from is not None and registry.pull(
            self.client, self.images_from, self.ref(name), self.status
        )

    def _build(self, recipe: Recipe) -> None:
        ref, folder = self.ref(recipe.name), self.recipes / recipe.name
        self.cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="build-", dir=self.cache) as scratch:
            context = Path(scratch) / "context"
            context.mkdir()
            if recipe.rootfs and not self.bases.origin(recipe.name):
                rootfs.build(self.client, ref, folder / "packages", context, self.status)
            elif self._as_it_is(recipe):
                (context / "Dockerfile").write_text(AS_IT_IS)  # the official image with our labels: nothing to build
                self._docker_build(recipe, context)
            else:
                if recipe.upstream:
                    self.binaries.provide(
                        recipe.upstream, self.versions, folder, context / "bin", Path(scratch), self.status
                    )
                for program in recipe.programs(self.versions, folder) if recipe.programs else []:
                    gobuild.build(program, context / "bin", self.cache / "go", self.status)
                shutil.copytree(folder, context, dirs_exist_ok=True)
                self._docker_build(recipe, context)
        try:
            self.client.images.get(ref)
        except docker.errors.ImageNotFound as error:
            raise BuildError(f"failed to build {ref}: the engine does not list it afterwards") from error

    def _docker_build(self, recipe: Recipe, context: Path) -> None:
        ref = self.ref(recipe.name)
        labels = {
            LABEL: recipe.name,
            **({VERSION_LABEL: self.versions.kubernetes} if recipe.pinned(self.versions).get("kubernetes") else {}),
            **({BINARIES_LABEL: f"{self.binaries.kind} {self.binaries.describe()}"} if recipe.upstream else {}),
            **({PULLED_LABEL: root} if (root := self.pulled_root(recipe.name)) else {}),
        }
        base = self.bases.origin(recipe.name) or (self.ref(recipe.parent) if recipe.parent else None)
        with self.status.step(f"Building {ref}") as step:
            output = self.client.api.build(
                path=str(context),
                tag=ref,
                rm=True,
                forcerm=True,
                decode=True,
                labels=labels,
                buildargs={"BASE": base} if base else {},
            )
            log: list[str] = []
            for chunk in output:
                if "error" in chunk:
                    raise BuildError(f"failed to build {ref}: {chunk['error'].strip()}\n" + "".join(log[-20:]))
                if chunk.get("stream", "").strip():
                    log.append(chunk["stream"])
                    step.update(chunk["stream"].strip()[:100])


@contextlib.contextmanager
def _build_lock(path: Path, status: Status) -> Iterator[None]:
    """Hold the lock that serialises builds across processes; a wait for another holder is said, and only then."""
    lock = filelock.FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        with status.step(f"Waiting for another session's build of the images (lock {path})"):
            lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _hash_files(recipes: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        name = path.relative_to(recipes) if path.is_relative_to(recipes) else Path(path.name)
        digest.update(f"{name}\0{path.stat().st_mode & 0o111:o}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()
