"""The host matrix: `python -m tests.hosts [CELL ...]` (default: every cell) boots each Debian VM,
runs the example and a kubelet restart against a throwaway cluster inside, checks that nothing
is left, and prints a table. The images are built (or found) here and loaded into each VM."""

from __future__ import annotations

import argparse
import sys

from pytest_single_k8s.build.images import Images
from pytest_single_k8s.build.recipes import NAMES
from pytest_single_k8s.build.wanted import Wanted
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.engine.connection import connect

from . import disk, tools, vm
from .cells import CELLS


def run_cells(images: Images, names: list[str], say=print) -> list[vm.Result]:
    """Boot each named cell with our images and its job; their results, in order."""
    tools.ensure(say)
    images.ensure()
    saved = vm.saved_images(images.client, [images.ref(name) for name in NAMES])
    results = []
    for name in names:
        cell = CELLS[name]
        built = disk.ensure(cell, say)
        say(f" • cell {name}: booting Debian {cell.debian} ({vm.accelerator()}) and running the job ...")
        result = vm.run(cell, built, saved, images.versions.kubernetes)
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
    parser.add_argument("cells", nargs="*", help=f"cells to run, of {', '.join(CELLS)} (default: all)")
    parser.add_argument("--k8s-version", default="latest")
    parser.add_argument("--logs", action="store_true", help="print each cell's whole log")
    args = parser.parse_args(argv)
    unknown = [name for name in args.cells if name not in CELLS]
    if unknown:
        parser.error(f"no such cell: {', '.join(unknown)}; the cells are {', '.join(CELLS)}")
    images = Images.chosen(connect(), Wanted(version=args.k8s_version), Status())
    results = run_cells(images, args.cells or list(CELLS))
    for result in results:
        if args.logs or not result.passed:
            print(f"\n--- cell {result.cell.name} ---\n{result.log}\n")
    print(table(results))
    return 0 if all(result.passed for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
