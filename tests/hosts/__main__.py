"""The host matrix: `python -m tests.hosts [CELL ...]` (default: every cell) boots each Debian VM,
or starts each job container (the engine cells: tests/hosts/engines.py), runs the example and a
kubelet restart against a throwaway cluster there, checks that nothing is left on the engine's
host, and prints a table. The images are built (or found) here and loaded into each VM.
With --conformance, each VM runs the conformance subset instead (tests/conformance)."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path

from pytest_single_k8s.build.images import Images
from pytest_single_k8s.build.recipes import NAMES
from pytest_single_k8s.build.wanted import Wanted
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.engine.connection import connect
from tests.conformance import images as e2e_images
from tests.conformance.__main__ import prepare

from . import disk, engines, tools, vm
from .cells import CELLS, ENGINE_CELLS


def run_cells(images: Images, names: list[str], say=print, conformance: bool = False) -> list[vm.Result]:
    """Boot each named cell with our images and its job; their results, in order. With `conformance`,
    the job is the conformance subset (tests/conformance), with e2e.test and its images made here."""
    images.ensure()
    results = []
    ours, e2e = [images.ref(name) for name in NAMES], None
    refs = list(ours)
    if conformance:
        with tempfile.TemporaryDirectory() as scratch:
            e2e, made, _ = prepare(images, e2e_images.repo_list(Path(scratch)), Status())
        refs += list(made.values())
    # Our images as one `docker save`, for the VMs' engines, and dind's with the e2e images (else it pulls ours
    # from a registry).
    archived = [name for name in names if name in CELLS or (name == "dind" and conformance)]
    saved = vm.saved_images(images.client, refs) if archived else None
    if any(name in ENGINE_CELLS for name in names):
        engine_image = engines.image(images, say)
    for name in (name for name in names if name in ENGINE_CELLS):
        say(f" • cell {name}: the job in a container ...")
        version = images.versions.kubernetes
        result = engines.run(ENGINE_CELLS[name], images.client, engine_image, version, ours, saved, e2e)
        say(f" {'✓' if result.passed else '✗'} cell {name}: {result.summary} [{result.seconds:.0f}s]")
        results.append(result)
    names = [name for name in names if name in CELLS]
    if not names:
        return results
    tools.ensure(say)
    assert saved is not None
    for name in names:
        cell = CELLS[name]
        built = disk.ensure(cell, say)
        say(f" • cell {name}: booting Debian {cell.debian} ({vm.accelerator()}) and running the job ...")
        if cell.remote:
            result = vm.run_remote(cell, built, saved, images.versions.kubernetes)
        else:
            result = vm.run(cell, built, saved, images.versions.kubernetes, e2e=e2e)
        say(f" {'✓' if result.passed else '✗'} cell {name}: {result.summary} [{result.seconds:.0f}s]")
        results.append(result)
    return results


COLUMNS = ("cell", "Debian", "Docker", "cgroup", "driver", "store", "AppArmor", "example + kubelet restart",
           "leftovers", "time")  # fmt: skip


def table(results: list[vm.Result]) -> str:
    rows = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for result in results:
        version, driver, cgroup, storage, *status = (result.engine.split(" ", 4) + ["?"] * 5)[:5]
        cells = [
            result.cell.name, result.cell.debian, version, f"v{cgroup}", driver,
            "containerd" if "containerd" in " ".join(status) + storage else "classic",
            "on" if "name=apparmor" in result.security else "off",
            result.summary, "none" if not result.leftovers else "; ".join(result.leftovers)[:80],
            f"{result.seconds:.0f} s",
        ]  # fmt: skip
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.hosts", description=__doc__)
    every = [*CELLS, *ENGINE_CELLS]
    parser.add_argument("cells", nargs="*", help=f"cells to run, of {', '.join(every)} (default: all)")
    parser.add_argument("--k8s-version", default="latest")
    parser.add_argument("--logs", action="store_true", help="print each cell's whole log")
    parser.add_argument(
        "--conformance", action="store_true", help="run the conformance subset in each cell instead of the example"
    )
    args = parser.parse_args(argv)
    # Killed with SIGTERM (a CI's timeout), the VMs, links and containers made so far still go: as on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    unknown = [name for name in args.cells if name not in every]
    if unknown:
        parser.error(f"no such cell: {', '.join(unknown)}; the cells are {', '.join(every)}")
    images = Images.chosen(connect(), Wanted(version=args.k8s_version), Status())
    results = run_cells(images, args.cells or every, conformance=args.conformance)
    for result in results:
        if args.logs or not result.passed:
            print(f"\n--- cell {result.cell.name} ---\n{result.log}\n")
    print(table(results))
    for result in results:
        if result.killed:
            print(f"cell {result.cell.name}: {result.killed}")
    return 0 if all(result.passed for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
