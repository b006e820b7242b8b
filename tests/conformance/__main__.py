"""Kubernetes' own conformance specs against a cluster of ours:

    python -m tests.conformance [--subset | --focus REGEX] [--budget MINUTES] [--procs N] [--version V]
                                [--output DIR] [--prebuilt DIR]

Builds e2e.test for the cluster's version (Go's caches kept, so once per version), makes the
images the specs run (images.py), starts a throwaway cluster, runs the specs (by default every
[Conformance] spec that is neither [Serial], [Slow] nor [Disruptive]; --subset: the fixed subset
CI runs), deletes the cluster and prints passed, failed and skipped, with each failure's first
lines and each skip's reason. Exits 0 when nothing failed. The run's directory keeps the log,
ginkgo's JSON report and summary.json. --prebuilt runs where nothing can be built (a host
matrix VM: `python -m tests.hosts c --conformance`) with what prepare() made elsewhere.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

from pytest_single_k8s.build.images import Images
from pytest_single_k8s.build.wanted import Wanted
from pytest_single_k8s.cluster.create import create_cluster
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.engine.connection import connect

from . import build, specs
from . import images as e2e_images
from .run import Results, Selection, run, selected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.conformance", description="Kubernetes' own conformance specs against a cluster of ours."
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--subset", action="store_true", help="the fixed subset CI runs (tests/conformance/subset.txt)")
    which.add_argument("--focus", default="", help="a ginkgo focus regex over the conformance specs' full names")
    parser.add_argument("--budget", type=float, default=240, help="minutes the specs may take in all (default 240)")
    parser.add_argument("--procs", type=int, default=1, help="parallel e2e processes (default 1: in series)")
    parser.add_argument("--version", default="latest", help="the Kubernetes version, as --k8s-version takes it")
    parser.add_argument("--output", type=Path, help="the run's directory (default: a new temporary one)")
    parser.add_argument(
        "--prebuilt", type=Path, help="a directory with e2e.test and kubectl, and the e2e images loaded: nothing built"
    )
    args = parser.parse_args(argv)
    status, client = Status(), connect()
    ours = Images.chosen(client, Wanted(version=args.version), status)
    ours.ensure()
    version = ours.versions.kubernetes
    directory = args.output or Path(tempfile.mkdtemp(prefix="pytest-single-k8s-conformance-"))
    directory.mkdir(parents=True, exist_ok=True)
    repo_list = e2e_images.repo_list(directory)
    if args.prebuilt:
        binaries = args.prebuilt
        made, cannot = e2e_images.present(client, e2e_images.listed(binaries / "e2e.test", repo_list))
    else:
        binaries, made, cannot = prepare(ours, repo_list, status)
    # The subset names its specs, one [Serial] among them (we run in series anyway).
    selection = Selection(specs.focus(specs.SUBSET), "Conformance") if args.subset else Selection(args.focus)
    candidates = selected(binaries, repo_list, dataclasses.replace(selection, not_here=True), directory)
    missing = sorted(set(specs.SUBSET) - set(candidates)) if args.subset else []
    if missing:
        print(f"error: e2e.test {version} has no spec named {missing}: tests/conformance/subset.txt", file=sys.stderr)
        return 2
    started = time.monotonic()
    cluster = create_cluster(client, ours, status)
    try:
        results = run(binaries, cluster.kubeconfig, repo_list, selection, args.budget, args.procs, directory, status)
    finally:
        cluster.close()
    results.skipped.update({name: specs.NOT_HERE[name] for name in candidates if name in specs.NOT_HERE})
    report = summary(results, version, time.monotonic() - started, cannot)
    (directory / "summary.json").write_text(json.dumps({**dataclasses.asdict(results), "not_made": cannot}, indent=2))
    print(report)
    print(f"the run's log, report and summary: {directory}")
    return 0 if results.passed and not results.failed else 1


def prepare(ours: Images, repo_list: Path, status: Status) -> tuple[Path, dict[str, str], list[str]]:
    """e2e.test, kubectl and the e2e images for the version of `ours`: the binaries' directory, the images
    made (e2e name -> reference) and the references not made."""
    version = ours.versions.kubernetes
    binaries = build.binaries(version, ours.client, ours.ref("kubernetes"), status)
    wanted = e2e_images.listed(binaries / "e2e.test", repo_list)
    made, cannot = e2e_images.ensure(ours, wanted, binaries, build.module_dir(version), status)
    return binaries, made, cannot


def summary(results: Results, version: str, seconds: float, cannot: list[str]) -> str:
    minutes, rest = divmod(int(seconds), 60)
    lines = [f"Conformance on Kubernetes {version}: {results.summary()} in {minutes}m{rest:02d}s"]
    if cannot:  # images of e2e specs that are not conformance specs (images.py)
        lines.append(f"{len(cannot)} e2e images are not made here; a spec that ran one would fail to pull it")
    for name, reason in sorted(results.skipped.items()):
        lines.append(f"  skipped  {name}\n           {reason.splitlines()[0]}")
    for name, message in sorted(results.failed.items()):
        first = "\n".join(f"           {line}" for line in message.strip().splitlines()[:6])
        lines.append(f"  FAILED   {name} ({results.seconds.get(name, 0):.0f}s)\n{first}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
