"""Booting a host matrix cell under QEMU and reading what its job reported.

KVM where it can boot a stock kernel; under a PVM host (kvm_pvm, as on our
machines) or without /dev/kvm, QEMU's TCG emulation: slow, but a real kernel,
systemd and Docker.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

from pytest_single_k8s.common.paths import cache_dir

from .cells import Cell, EngineCell
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
    """A folder holding images.tar with our images (`docker save`), cached by their ids."""
    ids = sorted(client.images.get(ref).id for ref in refs)
    folder = cache_dir() / "hosts" / f"images-{hashlib.sha256(' '.join(ids + refs).encode()).hexdigest()[:16]}"
    if not (folder / "images.tar").exists():
        for stale in folder.parent.glob("images-*"):  # archives of older images
            shutil.rmtree(stale)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / "images.tar.partial"
        # One archive for all, so that shared layers go in once (docker-py saves one image at a time).
        subprocess.run(["docker", "save", "-o", str(partial), *refs], check=True)
        partial.rename(folder / "images.tar")
    return folder


def run(cell: Cell, disk: Disk, images: Path, version: str, timeout: float = 3600, e2e: Path | None = None) -> Result:
    """Boot the cell with a throwaway overlay of its disk, run the job, read its report. With `e2e`
    (e2e.test and kubectl), the job is the conformance subset."""
    if shutil.which(QEMU) is None:
        raise SystemExit(f"the host matrix needs {QEMU}: apt-get install qemu-system-x86")
    result = Result(cell)
    with tempfile.TemporaryDirectory(prefix=f"cell-{cell.name}-") as folder:
        job = Path(folder)
        shutil.copy(HERE / "job.sh", job / "run")
        (job / "version").write_text(version)
        (job / "cache").mkdir()
        versions = cache_dir() / "kubernetes-versions.json"
        if versions.exists():  # the VM has no network: the proxy's list comes along
            shutil.copy(versions, job / "cache" / versions.name)
        if e2e is not None:
            shutil.copytree(e2e, job / "e2e", ignore=shutil.ignore_patterns("ginkgo"))
        shares = {"checkout": (CHECKOUT, True), "job": (job, False), "images": (images, True)}
        virtfs = [
            ["-virtfs", f"local,path={path},mount_tag={tag},security_model=none" + (",readonly=on" if ro else "")]
            for tag, (path, ro) in shares.items()
        ]
        command = [
            QEMU, "-accel", accelerator(), "-cpu", "max", "-smp", str(os.cpu_count() or 2), "-m", str(MEMORY_MIB),
            "-kernel", str(disk.kernel), "-initrd", str(disk.initrd),
            "-append", "root=/dev/vda rw console=ttyS0 quiet",
            "-drive", f"file={disk.image},format=raw,if=virtio,snapshot=on",
            *(arg for pair in virtfs for arg in pair),
            "-nic", "none", "-nographic", "-no-reboot",
        ]  # fmt: skip
        started = time.monotonic()
        with (job / "console.log").open("wb") as console:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT)
            try:
                process.wait(timeout=timeout)
            finally:  # out of time, Ctrl-C or any error: no VM outlives its run
                process.kill()
                process.wait()
        result.seconds = time.monotonic() - started
        read_report(result, job)
    return result


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
