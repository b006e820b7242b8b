"""The images the e2e specs run, made here under our own names.

No registry serves the e2e images here, and a look-alike must not sit under an upstream name
on the user's engine: e2e.test is told (KUBE_TEST_REPO_LIST) that its registries are
localhost/pytest-single-k8s/e2e, and every image it lists (`e2e.test --list-images`) is made
there under its own name and tag. Some are ours, tagged (pause, nginx, etcd); the rest are built
from tests/conformance/images, with the programs of build.PROGRAMS and files from the
Kubernetes module's test/images (porter's certificate, nautilus's and kitten's pages).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import yaml

from pytest_single_k8s.build.images import Images
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.engine.labels import LABEL, REPOSITORY
from pytest_single_k8s.errors import BuildError

PREFIX = f"{REPOSITORY}/e2e"
# The registries of test/utils/image/manifest.go that the conformance specs use, all ours.
REPO_LIST = {"promoterE2eRegistry": PREFIX, "gcRegistry": PREFIX, "gcEtcdRegistry": PREFIX}
RECIPES = Path(__file__).parent / "images"


@dataclass(frozen=True)
class Recipe:
    parent: str  # "debian" (ours) or another recipe's name
    folder: str = ""  # under RECIPES; empty: the parent, tagged
    programs: tuple[str, ...] = ()  # from build.binaries()
    module_files: tuple[str, ...] = ()  # from the Kubernetes module's test/images, into the context


BUILT = {
    "e2e-debian": Recipe("debian", "e2e-debian"),
    "agnhost": Recipe(
        "e2e-debian", "agnhost", ("agnhost",), ("agnhost/porter/localhost.crt", "agnhost/porter/localhost.key")
    ),
    "busybox": Recipe("e2e-debian", "busybox"),
    "glibc-dns-testing": Recipe("e2e-debian"),
    "nautilus": Recipe("agnhost", "nautilus", module_files=("nautilus/html",)),
    "kitten": Recipe("agnhost", "nautilus", module_files=("kitten/html",)),
    "nonewprivs": Recipe("e2e-debian", "nonewprivs", ("nonewprivs",)),
    "sample-apiserver": Recipe("e2e-debian", "sample-apiserver", ("sample-apiserver",)),
}
OURS = {"pause": "pause", "nginx": "nginx", "etcd": "etcd"}  # e2e's name -> our image, tagged


def repo_list(directory: Path) -> Path:
    path = directory / "repo-list.yaml"
    path.write_text(yaml.safe_dump(REPO_LIST))
    return path


def listed(e2e_test: Path, repo_list_file: Path) -> list[str]:
    """The images e2e.test names (under our prefix), from `e2e.test --list-images`."""
    env = {"KUBE_TEST_REPO_LIST": str(repo_list_file), "PATH": "/usr/bin:/bin"}
    output = subprocess.run([str(e2e_test), "--list-images"], capture_output=True, text=True, env=env, check=True)
    return [line.strip() for line in output.stdout.splitlines() if line.startswith(f"{PREFIX}/")]


def ensure(
    ours: Images, wanted: list[str], programs: Path, module: Path, status: Status
) -> tuple[dict[str, str], list[str]]:
    """Make every wanted image we have a recipe for; return what was made (e2e name -> ref) and the
    references we cannot make. Each recipe is built once, as PREFIX/<name>:local, and tagged as wanted."""
    made: dict[str, str] = {}
    cannot = []
    built: set[str] = set()
    for ref in wanted:
        name = ref.removeprefix(f"{PREFIX}/").split(":")[0]
        if name in OURS:
            source = ours.ref(OURS[name])
        elif name in BUILT:
            source = _build(ours, name, programs, module, status, built)
        else:
            cannot.append(ref)
            continue
        ours.client.images.get(source).tag(ref)
        made[name] = ref
    return made, cannot


def present(client: docker.DockerClient, wanted: list[str]) -> tuple[dict[str, str], list[str]]:
    """Where nothing is built (a VM loaded with what ensure() made elsewhere): the wanted images there, and not."""
    made: dict[str, str] = {}
    cannot = []
    for ref in wanted:
        try:
            client.images.get(ref)
            made[ref.removeprefix(f"{PREFIX}/").split(":")[0]] = ref
        except docker.errors.ImageNotFound:
            cannot.append(ref)
    return made, cannot


def _build(ours: Images, name: str, programs: Path, module: Path, status: Status, built: set[str]) -> str:
    """Build `name` (and its parents) once; its local reference. Docker's build cache makes a rebuild of the
    same inputs cheap."""
    recipe, ref = BUILT[name], f"{PREFIX}/{name}:local"
    if name in built:
        return ref
    base = _build(ours, recipe.parent, programs, module, status, built) if recipe.parent in BUILT else None
    base = base or ours.ref(recipe.parent)
    built.add(name)
    if not recipe.folder:
        ours.client.images.get(base).tag(ref)
        return ref
    with tempfile.TemporaryDirectory(prefix="e2e-image-") as scratch:
        context = Path(scratch)
        shutil.copytree(RECIPES / recipe.folder, context, dirs_exist_ok=True)
        for program in recipe.programs:
            shutil.copy2(programs / program, context / program)
        for part in recipe.module_files:
            source = module / "test" / "images" / part
            target = context / Path(part).name
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
        with status.step(f"Building {ref}") as step:
            try:
                for chunk in ours.client.api.build(
                    path=str(context), tag=ref, rm=True, forcerm=True, decode=True,
                    labels={LABEL: f"e2e-{name}"}, buildargs={"BASE": base},
                ):  # fmt: skip
                    if "error" in chunk:
                        raise BuildError(f"failed to build {ref}: {chunk['error'].strip()}")
                    if chunk.get("stream", "").strip():
                        step.update(chunk["stream"].strip()[:100])
            except docker.errors.APIError as error:
                raise BuildError(f"failed to build {ref}: {error}") from error
    return ref
