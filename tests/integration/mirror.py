"""A mirror of the official release layouts on 127.0.0.1, made from binaries we built from Go modules.

Each Kubernetes command is the file the images hold under its name (with images
built from Go modules, a copy of our multi-call `kube`, which runs the command it
is named as), etcd and cri-dockerd are packed as their projects pack them,
and every checksum file is written as the official sites write theirs.

    python -m tests.integration.mirror DIR   makes the mirror under DIR and serves it until Ctrl-C
"""

import contextlib
import functools
import hashlib
import http.server
import io
import sys
import tarfile
import threading
from pathlib import Path

from pytest_single_k8s.build.recipes import KUBE_COMMANDS
from pytest_single_k8s.build.release import Mirrors, architecture
from pytest_single_k8s.engine.containers import image_file

LAYOUTS = {"kubernetes": "release", "etcd": "etcd", "cri_dockerd": "cri-dockerd"}  # Mirrors field -> folder


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def make(client, images, root):
    """Write the mirror of the releases `images` hold under root (their binaries, as their projects ship them)."""
    versions = images.versions
    release = root / "release"
    binaries = release / versions.kubernetes / "bin" / "linux" / architecture()
    binaries.mkdir(parents=True)
    for name in KUBE_COMMANDS:
        data = image_file(client, images.ref("kubernetes"), f"/usr/local/bin/{name}")
        (binaries / name).write_bytes(data)
        (binaries / f"{name}.sha256").write_text(sha256(data))  # dl.k8s.io: the digest alone
    minor = ".".join(versions.kubernetes.removeprefix("v").split(".")[:2])
    for name in ("stable.txt", f"stable-{minor}.txt"):
        (release / name).write_text(versions.kubernetes + "\n")

    etcd = image_file(client, images.ref("etcd"), "/usr/local/bin/etcd")
    stem = f"etcd-{versions.etcd}-linux-{architecture()}"
    archive = _tar({f"{stem}/etcd": etcd, f"{stem}/README.md": b"etcd\n"})
    (root / "etcd" / versions.etcd).mkdir(parents=True)
    (root / "etcd" / versions.etcd / f"{stem}.tar.gz").write_bytes(archive)
    sums = f"{sha256(b'other')}  other.zip\n{sha256(archive)}  {stem}.tar.gz\n"  # as etcd's: every archive
    (root / "etcd" / versions.etcd / "SHA256SUMS").write_text(sums)

    cri_dockerd = image_file(client, images.ref("kubernetes"), "/usr/local/bin/cri-dockerd")
    name = f"cri-dockerd-{versions.cri_dockerd.removeprefix('v')}.{architecture()}.tgz"
    archive = _tar({"cri-dockerd/cri-dockerd": cri_dockerd})
    (root / "cri-dockerd" / versions.cri_dockerd).mkdir(parents=True)
    (root / "cri-dockerd" / versions.cri_dockerd / name).write_bytes(archive)
    (root / "cri-dockerd" / versions.cri_dockerd / f"{name}.sha256").write_text(f"{sha256(archive)}  {name}\n")


def mirrors(base):
    return Mirrors(**{field: f"{base}/{folder}" for field, folder in LAYOUTS.items()})


def flags(base):
    """The settings that point a session at the mirror at `base`."""
    urls = mirrors(base)
    return [
        "--k8s-binaries", "release",
        "--k8s-release-url", urls.kubernetes,
        "--k8s-etcd-url", urls.etcd,
        "--k8s-cri-dockerd-url", urls.cri_dockerd,
    ]  # fmt: skip


@contextlib.contextmanager
def serving(root):
    """Serve root on 127.0.0.1; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def _tar(files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


if __name__ == "__main__":
    from pytest_single_k8s.build.binaries import SOURCE
    from pytest_single_k8s.build.images import Images
    from pytest_single_k8s.build.wanted import Wanted
    from pytest_single_k8s.engine.connection import connect

    target = Path(sys.argv[1])
    source_images = Images.chosen(connect(), Wanted(binaries=SOURCE))
    make(source_images.client, source_images, target)
    with serving(target) as base:
        print(" ".join(flags(base)), flush=True)
        threading.Event().wait()
