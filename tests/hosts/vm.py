"""Booting a host matrix cell under QEMU and reading what its job reported.

KVM where it can boot a stock kernel; under a PVM host (kvm_pvm, as on our
machines) or without /dev/kvm, QEMU's TCG emulation: slow, but a real kernel,
systemd and Docker. A cell's job runs in its VM at boot (`run`); a remote
cell's VM holds only the engine, and the job runs on this host against it
across a link of their own (`run_remote`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors
import tenacity

from pytest_single_k8s.build import archive
from pytest_single_k8s.common.paths import cache_dir
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.common.waiting import wait_for

from .cells import GUEST_ADDRESS, HOST_ADDRESS, PREFIX_LENGTH, TAP, Cell, EngineCell
from .disk import CHECKOUT, HERE, Disk

QEMU = "qemu-system-x86_64"
MEMORY_MIB = 8192


@dataclass
class Result:
    cell: Cell | EngineCell
    engine: str = ""  # "VERSION DRIVER CGROUPVERSION STORAGE DRIVERSTATUS"
    security: str = ""  # the engine's security options, comma-separated
    pytest_status: int | None = None
    leftovers: list[str] = field(default_factory=list)
    leftovers_checked: bool = False  # the check ran to its end
    summary: str = ""  # pytest's last line
    killed: str = ""  # how the session SIGKILLed first ended (engine cells with KILL_FIRST)
    seconds: float = 0.0
    log: str = ""

    @property
    def passed(self) -> bool:
        return self.pytest_status == 0 and self.leftovers_checked and not self.leftovers and bool(self.engine)


def accelerator() -> str:
    kvm = Path("/dev/kvm")
    usable = kvm.exists() and os.access(kvm, os.R_OK | os.W_OK)
    pvm = Path("/sys/module/kvm_pvm").exists()  # boots only PVM guest kernels
    return "kvm" if usable and not pvm else "tcg,thread=multi"


def saved_images(client: docker.DockerClient, refs: list[str]) -> Path:
    """A folder holding images.tar with our images (one archive), cached by their ids."""
    ids = sorted(client.images.get(ref).id for ref in refs)
    folder = cache_dir() / "hosts" / f"images-{hashlib.sha256(' '.join(ids + refs).encode()).hexdigest()[:16]}"
    if not (folder / "images.tar").exists():
        for stale in folder.parent.glob("images-*"):  # archives of older images
            shutil.rmtree(stale)
        folder.mkdir(parents=True, exist_ok=True)
        archive.save(client, refs, folder / "images.tar", Status())  # the way `images --save` does
    return folder


def run(cell: Cell, disk: Disk, images: Path, version: str, timeout: float = 3600, e2e: Path | None = None) -> Result:
    """Boot the cell with a throwaway overlay of its disk, run the job, read its report. With `e2e`
    (e2e.test and kubectl), the job is the conformance subset."""
    result = Result(cell)
    with tempfile.TemporaryDirectory(prefix=f"cell-{cell.name}-") as folder:
        job = Path(folder)
        prepare_job(job, version, e2e)
        shares = {"checkout": (CHECKOUT, True), "job": (job, False), "images": (images, True)}
        virtfs = [
            ["-virtfs", f"local,path={path},mount_tag={tag},security_model=none" + (",readonly=on" if ro else "")]
            for tag, (path, ro) in shares.items()
        ]
        started = time.monotonic()
        for attempt in _boots():
            with attempt, _booted(disk, job, [arg for pair in virtfs for arg in pair] + ["-nic", "none"]) as process:
                process.wait(timeout=timeout)
                if not (job / "engine").exists() and _panicked(job):  # before the job began
                    raise KernelPanicked
        result.seconds = time.monotonic() - started
        read_report(result, job)
    return result


def run_remote(cell: Cell, disk: Disk, images: Path, version: str, timeout: float = 3600) -> Result:
    """Boot a remote cell's VM (the engine only) on a tap link to this host, and run the job here against
    its engine, named by the Docker context in use as colima and Lima name theirs: our images loaded
    through the API, a session SIGKILLed and reaped, the example and the kubelet restart, the leftovers
    looked for there. (Not the engine cells' more tests: under TCG they take an hour; dind runs them
    across TCP.) The VM and the link go at the end, whatever happened."""
    result = Result(cell)
    engine = f"tcp://{GUEST_ADDRESS}:2375"
    with tempfile.TemporaryDirectory(prefix=f"cell-{cell.name}-") as folder, _link():
        job = Path(folder)
        prepare_job(job, version)
        link = f"tap,id=link,ifname={TAP},script=no,downscript=no"
        network = ["-netdev", link, "-device", "virtio-net-pci,netdev=link"]
        started = time.monotonic()
        for attempt in _boots():
            with attempt, _booted(disk, job, network, kernel=("net.ifnames=0",)) as process:  # the link is eth0
                _engine_answers(engine, process, job)
                environment = _docker_context(job / "docker-config", f"psk8s-cell-{cell.name}", engine)
                environment |= {
                    "JOB": str(job), "IMAGES": str(images), "PYTHON": sys.executable, "CHECKOUT": str(CHECKOUT),
                    "PYTEST_PLUGINS": "", "KILL_FIRST": "1",
                }  # fmt: skip
                subprocess.run(["bash", str(job / "run")], env=environment, timeout=timeout, check=False)
        result.seconds = time.monotonic() - started
        read_report(result, job)
    return result


def prepare_job(job: Path, version: str, e2e: Path | None = None) -> None:
    """The job's folder: the job script, the version, the cache's version list (the cells have no network),
    and e2e.test with kubectl for the conformance subset."""
    shutil.copy(HERE / "job.sh", job / "run")
    (job / "version").write_text(version)
    (job / "cache").mkdir()
    versions = cache_dir() / "kubernetes-versions.json"
    if versions.exists():
        shutil.copy(versions, job / "cache" / versions.name)
    if e2e is not None:
        shutil.copytree(e2e, job / "e2e", ignore=shutil.ignore_patterns("ginkgo"))


class KernelPanicked(Exception):
    """The guest's kernel panicked as it booted: seen under QEMU's TCG with Debian 14's kernel (an int3 trap in
    the scheduler 1.3 s in), on a disk that booted before and after."""


def _boots() -> tenacity.Retrying:
    """A boot whose kernel panics before the job began is tried once more, and said so."""
    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(2),
        retry=tenacity.retry_if_exception_type(KernelPanicked),
        before_sleep=lambda _: print(" • the VM's kernel panicked as it booted: booting it again", file=sys.stderr),
        reraise=True,
    )


def _panicked(job: Path) -> bool:
    return "Kernel panic" in _read(job / "console.log")


@contextlib.contextmanager
def _booted(disk: Disk, job: Path, devices: list[str], kernel: tuple[str, ...] = ()) -> Iterator[subprocess.Popen]:
    """QEMU running the disk (a throwaway overlay of it) with `devices` and more `kernel` arguments, its
    console in the job's folder; killed on the way out (out of time, Ctrl-C or any error: no VM outlives
    its run). A kernel that panics ends QEMU at once (panic=-1 with -no-reboot), instead of idling until
    the job's timeout."""
    if shutil.which(QEMU) is None:
        raise SystemExit(f"the host matrix needs {QEMU}: apt-get install qemu-system-x86")
    command = [
        QEMU, "-accel", accelerator(), "-cpu", "max", "-smp", str(os.cpu_count() or 2), "-m", str(MEMORY_MIB),
        "-kernel", str(disk.kernel), "-initrd", str(disk.initrd),
        "-append", " ".join(["root=/dev/vda rw console=ttyS0 quiet panic=-1", *kernel]),
        "-drive", f"file={disk.image},format=raw,if=virtio,snapshot=on",
        *devices, "-nographic", "-no-reboot",
    ]  # fmt: skip
    with (job / "console.log").open("wb") as console:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.kill()
            process.wait()


def read_report(result: Result, job: Path) -> None:
    """What a cell's job wrote in its folder (tests/hosts/job.sh), into `result`."""
    result.engine = _read(job / "engine")
    result.security = _read(job / "security")
    status = _read(job / "pytest.status")
    result.pytest_status = int(status) if status.isdigit() else None
    result.leftovers = _read(job / "leftovers").splitlines()
    result.leftovers_checked = _read(job / "leftovers.status") in ("0", "1")  # 1: it found something
    result.killed = _read(job / "killed")
    result.log = _read(job / "output.log") or _read(job / "console.log")[-5000:]
    lines = [line for line in result.log.splitlines() if " in " in line and ("passed" in line or "failed" in line)]
    result.summary = lines[-1].strip("= ") if lines else "(no pytest summary)"


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return ""


@contextlib.contextmanager
def _link() -> Iterator[None]:
    """The tap device that links a remote cell's VM to this host, with this host's address on it; gone on
    the way out."""
    if Path("/sys/class/net", TAP).exists():
        raise SystemExit(f"the link {TAP} is already there (another cell running, or one killed): ip link delete {TAP}")
    _ip("tuntap", "add", "dev", TAP, "mode", "tap")
    try:
        _ip("addr", "add", f"{HOST_ADDRESS}/{PREFIX_LENGTH}", "dev", TAP)
        _ip("link", "set", TAP, "up")
        yield
    finally:
        _ip("link", "delete", TAP)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True)


class _VMEnded(Exception):
    pass


def _engine_answers(engine: str, process: subprocess.Popen, job: Path, timeout: float = 600) -> None:
    """Wait while the VM boots until its engine answers at `engine`."""

    def answers() -> None:
        if process.poll() is not None:
            raise KernelPanicked if _panicked(job) else _VMEnded(f"the VM ended (exit {process.returncode}) first")
        client = docker.DockerClient(base_url=engine, timeout=5)
        try:
            client.ping()
        finally:
            client.close()

    wait_for(answers, f"the engine at {engine}", timeout, interval=2, fatal=(_VMEnded, KernelPanicked))


def _docker_context(config: Path, name: str, engine: str) -> dict[str, str]:
    """The environment of a docker CLI whose configuration (`config`, new) has a context `name` for `engine`
    in use, as `docker context use` leaves it: no DOCKER_HOST or DOCKER_CONTEXT names the engine."""
    environment = {key: value for key, value in os.environ.items() if key not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    environment["DOCKER_CONFIG"] = str(config)
    config.mkdir()
    for command in (["context", "create", name, "--docker", f"host={engine}"], ["context", "use", name]):
        subprocess.run(["docker", *command], env=environment, check=True, stdout=subprocess.DEVNULL)
    return environment
