"""Running e2e.test against a cluster and reading what it reports.

One process runs the specs in series; with procs > 1, ginkgo's command runs that many and
hands the specs out. Either way ginkgo's JSON report is read: one entry per spec, with its
state and, for a failure, its message. Specs in specs.NOT_HERE are skipped before they start
and reported with their reason.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from pytest_single_k8s.common.progress import Status

from . import specs

FAILED = ("failed", "panicked", "timedout", "interrupted", "aborted")
SPEC_ENDED = "•".encode()


@dataclass
class Results:
    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # name -> the failure's message
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why
    seconds: dict[str, float] = field(default_factory=dict)  # name -> how long it ran

    def summary(self) -> str:
        return f"{len(self.passed)} passed, {len(self.failed)} failed, {len(self.skipped)} skipped"


@dataclass(frozen=True)
class Selection:
    focus: str = ""  # a ginkgo focus regex; empty: every spec the label filter takes
    labels: str = specs.ALL
    not_here: bool = False  # also the specs of specs.NOT_HERE (only to list them: they are skipped)

    def flags(self, prefix: str) -> list[str]:
        """The selection as e2e.test's flags (prefix `ginkgo.`) or ginkgo's command's (prefix '')."""
        return [
            *([f"--{prefix}focus={self.focus}"] if self.focus else []),
            f"--{prefix}label-filter={self.labels}",
            *([] if self.not_here else [f"--{prefix}skip={specs.focus(list(specs.NOT_HERE))}"]),
        ]


def run(
    binaries: Path,
    kubeconfig: Path,
    repo_list: Path,
    selection: Selection,
    budget_minutes: float,
    procs: int,
    directory: Path,
    status: Status,
) -> Results:
    """Run the selected specs within the budget; their results. Output goes to directory/e2e.log."""
    report = directory / "report.json"
    report.unlink(missing_ok=True)
    suite = [
        f"--kubeconfig={kubeconfig}",
        "--provider=local",
        f"--kubectl-path={binaries / 'kubectl'}",
        f"--report-dir={directory}",
        "--disable-log-dump",
    ]
    if procs > 1:
        command = [
            str(binaries / "ginkgo"), f"--procs={procs}", f"--timeout={budget_minutes}m", "--no-color",
            *selection.flags(""), f"--json-report={report.name}", f"--output-dir={directory}",
            str(binaries / "e2e.test"), "--", *suite,
        ]  # fmt: skip
    else:
        command = [
            str(binaries / "e2e.test"), *suite, *selection.flags("ginkgo."), f"--ginkgo.timeout={budget_minutes}m",
            f"--ginkgo.json-report={report}", "--ginkgo.no-color",
        ]  # fmt: skip
    env = {**os.environ, "KUBE_TEST_REPO_LIST": str(repo_list)}
    log = directory / "e2e.log"
    with status.step(f"Running the e2e specs (log: {log})") as step, log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert process.stdout is not None
        done = 0
        # Chunks, not lines: ginkgo marks each spec that ends with a "•", several on one line.
        while chunk := os.read(process.stdout.fileno(), 65536):
            output.write(chunk)
            output.flush()  # the log is there to be followed
            done += chunk.count(SPEC_ENDED)
            step.update(f"{done} specs done")
        process.wait()
    if not report.exists():
        raise RuntimeError(f"e2e.test exited {process.returncode} without a report; see {log}")
    return read(report)


def read(report: Path) -> Results:
    """The specs of a ginkgo JSON report, by state."""
    results = Results()
    for suite in json.loads(report.read_text()):
        for spec in suite.get("SpecReports") or []:
            if spec.get("LeafNodeType") != "It":
                continue
            name = " ".join([*spec.get("ContainerHierarchyTexts", []), spec["LeafNodeText"]])
            state, message = spec["State"], (spec.get("Failure") or {}).get("Message", "")
            results.seconds[name] = spec.get("RunTime", 0) / 1e9
            if state == "passed":
                results.passed.append(name)
            elif state in FAILED:
                results.failed[name] = message or state
            elif message:  # a spec that skipped itself, saying why (a spec the filters left out has none)
                results.skipped[name] = message
    return results


def selected(binaries: Path, repo_list: Path, selection: Selection, directory: Path) -> list[str]:
    """The names of the specs a selection runs, from a dry run (no cluster needed)."""
    report = directory / "dry-run.json"
    command = [
        str(binaries / "e2e.test"), *selection.flags("ginkgo."), "--ginkgo.dry-run", f"--ginkgo.json-report={report}",
        "--ginkgo.no-color", "--provider=local", "--disable-log-dump",
    ]  # fmt: skip
    env = {**os.environ, "KUBE_TEST_REPO_LIST": str(repo_list)}
    subprocess.run(command, env=env, capture_output=True, check=False, cwd=directory)
    if not report.exists():
        raise RuntimeError("e2e.test's dry run wrote no report")
    return read(report).passed
