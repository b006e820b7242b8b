"""A container registry on 127.0.0.1: the CNCF distribution registry, built here from its Go module
and run as a host process (the engine pulls from loopback registries over plain HTTP)."""

import contextlib
import socket
import subprocess
import urllib.request

from pytest_single_k8s.build import gobuild
from pytest_single_k8s.common.paths import cache_dir
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.common.waiting import wait_for

MODULE, VERSION = "github.com/distribution/distribution/v3", "v3.1.2"
CONFIG = """version: 0.1
storage:
  filesystem:
    rootdirectory: {storage}
http:
  addr: 127.0.0.1:{port}
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
    config.write_text(CONFIG.format(storage=folder / "storage", port=port))
    log = (folder / "registry.log").open("w")
    process = subprocess.Popen([str(binary), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2).close(), "the registry", 60)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
