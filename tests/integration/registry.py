"""A container registry: the CNCF distribution registry, built here from its Go module, run as a host
process on 127.0.0.1 or in a container (an engine pulls from and pushes to loopback registries over plain
HTTP)."""

import contextlib
import socket
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from pytest_single_k8s.build import gobuild
from pytest_single_k8s.common.paths import cache_dir
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.common.waiting import wait_for
from pytest_single_k8s.engine.containers import remove

IN_NETWORK = ("registry", 5000)  # where one in a container answers on its network (in_container)
MODULE, VERSION = "github.com/distribution/distribution/v3", "v3.1.2"
CONFIG = """version: 0.1
storage:
  filesystem:
    rootdirectory: {storage}
http:
  addr: {address}
"""


def build(into):
    """The registry binary (Go's caches make every build after the first a cache hit)."""
    program = gobuild.released("registry", MODULE, VERSION, command="cmd/registry")
    return gobuild.build(program, into, cache_dir() / "go", Status())


@contextlib.contextmanager
def running(binary, folder):
    """Serve a registry with its storage under folder; yields its address, host:port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = folder / "config.yml"
    config.write_text(CONFIG.format(storage=folder / "storage", address=f"127.0.0.1:{port}"))
    log = (folder / "registry.log").open("w")
    process = subprocess.Popen([str(binary), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        yield _answering(f"127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextlib.contextmanager
def in_container(client, image, binary, network, name, labels):
    """Serve a registry in a container of `image` on `network`, as IN_NETWORK there,
    its port published on this host's loopback, where this host's engine pushes to it; yields that address.
    Its storage goes with it."""
    alias, port = IN_NETWORK
    with tempfile.TemporaryDirectory(prefix="registry-") as folder:
        config = Path(folder) / "config.yml"
        config.write_text(CONFIG.format(storage="/var/lib/registry", address=f"0.0.0.0:{port}"))
        config.chmod(0o644)
        container = client.containers.create(
            image, ["/usr/local/bin/registry", "serve", "/etc/registry.yml"], name=name, labels=labels,
            volumes={str(binary): {"bind": "/usr/local/bin/registry", "mode": "ro"},
                     str(config): {"bind": "/etc/registry.yml", "mode": "ro"}},
            ports={f"{port}/tcp": ("127.0.0.1", None)},
        )  # fmt: skip
        try:
            network.connect(container, aliases=[alias])
            container.start()
            container.reload()
            yield _answering(f"127.0.0.1:{container.ports[f'{port}/tcp'][0]['HostPort']}")
        finally:
            remove(container)


def publish(client, source, reference):
    """Our image `source` pushed as `reference` (REGISTRY/PATH:TAG), a push error raised; the engine keeps no
    name of the registry's, so that only a pull can bring the reference back."""
    repository, tag = reference.rsplit(":", 1)
    client.api.tag(source, repository, tag)
    try:
        for message in client.api.push(repository, tag, stream=True, decode=True):
            assert "error" not in message, message
    finally:
        client.api.remove_image(reference)


def _answering(address):
    wait_for(lambda: urllib.request.urlopen(f"http://{address}/v2/", timeout=2).close(), "the registry", 60)
    return address
