"""Where binaries come from: release resolution, verified downloads and auto's choice, against a real
HTTP server on 127.0.0.1 (no Docker)."""

import functools
import hashlib
import http.server
import io
import json
import socket
import threading
import time

import pytest

from pytest_single_k8s.build import binaries, downloads, release, toolchain
from pytest_single_k8s.build.recipes import Versions
from pytest_single_k8s.build.wanted import Wanted
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.errors import BuildError, SingleK8sError, VersionError
from pytest_single_k8s.settings import resolve


@pytest.fixture
def served(tmp_path):
    """tmp_path served over HTTP; `failures` holds paths that answer 503 once each."""
    failures: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the base class's name
            if self.path in failures:
                failures.remove(self.path)
                self.send_error(503)
                return
            super().do_GET()

        def log_message(self, format, *args):  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}", failures
    server.shutdown()
    server.server_close()


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_minor_and_latest_are_what_the_mirrors_stable_files_name(served):
    root, base, _ = served
    (root / "stable.txt").write_text("v1.38.1\n")
    (root / "stable-1.37.txt").write_text("v1.37.4\n")
    mirrors = release.Mirrors(kubernetes=base)
    assert release.resolve("latest", mirrors) == "v1.38.1"
    assert release.resolve(None, mirrors) == "v1.38.1"
    assert release.resolve("1.37", mirrors) == "v1.37.4"
    with pytest.raises(BuildError, match=rf"failed to read {base}/stable-1.36.txt: HTTP 404"):
        release.resolve("1.36", mirrors)
    with pytest.raises(VersionError, match="malformed Kubernetes version"):
        release.resolve("banana", mirrors)


def test_a_release_is_checked_by_its_checksum_file(served):
    root, base, _ = served
    folder = root / "v1.37.2" / "bin" / "linux" / release.architecture()
    folder.mkdir(parents=True)
    (folder / "kube-apiserver.sha256").write_text("a" * 64)
    assert release.resolve("1.37.2", release.Mirrors(kubernetes=base)) == "v1.37.2"
    with pytest.raises(BuildError, match=r"v1.37.3/bin/linux/.*/kube-apiserver.sha256: HTTP 404"):
        release.resolve("v1.37.3", release.Mirrors(kubernetes=base))


def test_a_download_is_verified_and_retried_through_a_transient_failure(served, tmp_path):
    root, base, failures = served
    (root / "file").write_bytes(b"binary" * 1000)
    failures.append("/file")
    target = tmp_path / "out" / "file"
    target.parent.mkdir()
    progress: list[str] = []
    downloads.download(f"{base}/file", target, hashlib.sha256(b"binary" * 1000).hexdigest(), progress.append)
    assert target.read_bytes() == b"binary" * 1000
    assert failures == []  # the 503 was answered, then retried
    assert progress


def test_a_mismatch_is_refused_with_both_digests_and_leaves_nothing(served, tmp_path):
    root, base, _ = served
    (root / "file").write_bytes(b"not what was promised")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(BuildError) as refused:
        downloads.download(f"{base}/file", out / "file", "0" * 64)
    actual = hashlib.sha256(b"not what was promised").hexdigest()
    assert f"refused file from {base}/file: its SHA-256 is {actual}, expected {'0' * 64}" in str(refused.value)
    assert list(out.iterdir()) == []


def test_a_missing_file_is_not_retried(served, tmp_path):
    _, base, _ = served
    started = time.monotonic()
    with pytest.raises(BuildError, match="HTTP 404"):
        downloads.download(f"{base}/absent", tmp_path / "absent", "0" * 64)
    assert time.monotonic() - started < 2
    assert list(tmp_path.iterdir()) == []


def test_checksum_files_of_both_official_formats():
    digest = "ab" * 32
    assert downloads.digest_in(f"{digest}\n", "url") == digest
    listing = f"{'cd' * 32}  etcd-v3.7.3-linux-arm64.tar.gz\n{digest}  etcd-v3.7.3-linux-amd64.tar.gz\n"
    assert downloads.digest_in(listing, "url", "etcd-v3.7.3-linux-amd64.tar.gz") == digest
    with pytest.raises(BuildError, match="failed to read a SHA-256 for other.tgz in url"):
        downloads.digest_in(listing, "url", "other.tgz")


def fresh_version_list(cache):
    (cache / "kubernetes-versions.json").write_text(json.dumps({"fetched": time.time(), "releases": [[1, 37, 2]]}))


@pytest.fixture
def silent_port():
    """A port on 127.0.0.1 that takes connections (the kernel completes them) and never answers:
    nothing accepts them, so a request waits for its timeout, as with a site that does not answer."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@pytest.mark.parametrize("silent", [False, True])
def test_auto_falls_back_to_the_source_build_within_seconds_and_says_why(tmp_path, monkeypatch, silent_port, silent):
    monkeypatch.setattr(release, "PROBE_TIMEOUT", 1.0)  # the wait that a silent site costs, shortened
    fresh_version_list(tmp_path)
    said = io.StringIO()
    port = silent_port if silent else closed_port()
    wanted = Wanted(mirrors=release.Mirrors(kubernetes=f"http://127.0.0.1:{port}/release"))
    started = time.monotonic()
    versions, chosen = binaries.choose(wanted, tmp_path, lambda versions, source: False, Status(said))
    waited = time.monotonic() - started
    assert waited < release.PROBE_TIMEOUT + 2
    assert (waited >= release.PROBE_TIMEOUT) is silent  # a silent site is given up on at the timeout
    assert (versions.kubernetes, chosen.kind) == ("v1.37.2", binaries.SOURCE)
    assert "binaries: building from Go modules: the release files did not answer (failed to read http://" in (
        said.getvalue()
    )


def test_auto_takes_cached_images_of_any_source_before_asking_anyone(tmp_path):
    fresh_version_list(tmp_path)
    wanted = Wanted(mirrors=release.Mirrors(kubernetes=f"http://127.0.0.1:{closed_port()}"))
    said = io.StringIO()

    def cached(versions, source):
        return source.kind == binaries.SOURCE and versions == Versions(kubernetes="v1.37.2")

    assert binaries.choose(wanted, tmp_path, cached, Status(said))[1].kind == binaries.SOURCE
    assert said.getvalue() == ""


def test_auto_downloads_where_the_release_files_answer(served):
    root, base, _ = served
    fresh_version_list(root)
    folder = root / "release" / "v1.37.2" / "bin" / "linux" / release.architecture()
    folder.mkdir(parents=True)
    (folder / "kube-apiserver.sha256").write_text("a" * 64)
    etcd = root / "etcd" / Versions(kubernetes="").etcd
    etcd.mkdir(parents=True)
    (etcd / "SHA256SUMS").write_text(f"{'b' * 64}  etcd.tar.gz\n")
    said = io.StringIO()
    wanted = Wanted(mirrors=release.Mirrors(kubernetes=f"{base}/release", etcd=f"{base}/etcd"))
    assert binaries.choose(wanted, root, lambda versions, source: False, Status(said))[1].kind == binaries.RELEASE
    assert f"downloading the release files from {base}/release" in said.getvalue()


@pytest.mark.parametrize("source", [binaries.AUTO, binaries.RELEASE, binaries.SOURCE])
def test_an_exact_release_with_cached_images_asks_nobody(tmp_path, source):
    """An offline or air-gapped host: no version list, no site answers; the cached images are enough."""
    closed = f"http://127.0.0.1:{closed_port()}"
    wanted = Wanted(version="1.37.2", binaries=source, mirrors=release.Mirrors(closed, closed, closed))
    versions, chosen = binaries.choose(wanted, tmp_path, lambda versions, source: True, Status(io.StringIO()))
    assert versions.kubernetes == "v1.37.2"
    assert chosen.kind == (binaries.RELEASE if source == binaries.AUTO else source)
    assert list(tmp_path.iterdir()) == []  # no version list was fetched


def test_a_transfer_cut_short_is_retried(tmp_path):
    """A server that closes after half the promised bytes, once: read() ends quietly, the length tells."""
    data = b"x" * 100_000
    attempts = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            attempts.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data if len(attempts) > 1 else data[: len(data) // 2])

        def log_message(self, format, *args):  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/file"
        downloads.download(url, tmp_path / "file", hashlib.sha256(data).hexdigest())
    finally:
        server.shutdown()
        server.server_close()
    assert len(attempts) == 2
    assert (tmp_path / "file").read_bytes() == data


def test_the_binaries_settings():
    assert resolve({}, {}).wanted() == Wanted()
    chosen = resolve({"binaries": "release"}, {"release_url": "http://mirror.example/k8s/"})
    assert chosen.wanted().binaries == "release"
    assert chosen.wanted().mirrors.kubernetes == "http://mirror.example/k8s"
    assert resolve({"binaries": "~/bin"}, {}).binaries.endswith("/bin")
    with pytest.raises(SingleK8sError, match="--k8s-etcd-url / k8s_etcd_url"):
        resolve({"etcd_url": "ftp://mirror"}, {})


def test_go_versions_compare_as_numbers():
    assert toolchain.parse("go1.26.8\n") == (1, 26, 8)
    assert toolchain.parse("1.25") < toolchain.parse("1.25.0") < toolchain.parse("go1.26.8")
    assert toolchain.parse("1.9") < toolchain.parse("1.10")
