"""Every supported Kubernetes minor against the example: `python -m tests.versions [MINOR ...] [-- PYTEST ARGS]`
(default: each minor from the oldest supported to the newest the Go module proxy serves) runs
`pytest tests/example` against each minor's newest release, on this host's engine, and prints a table.

Each minor's images are built once (their tags hold the version) and Go's caches are kept, so a second run
builds nothing; the first build of a minor from Go modules takes 5 to 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_single_k8s.build import versions
from pytest_single_k8s.common.paths import cache_dir

CHECKOUT = Path(__file__).resolve().parents[2]


@dataclass
class Row:
    minor: str
    release: str
    passed: bool
    summary: str
    seconds: float


def supported_minors() -> list[str]:
    """Each minor from the oldest supported to the newest served, oldest first."""
    served = versions.served_releases(cache_dir())
    return sorted({f"{major}.{minor}" for major, minor, _ in served if (major, minor) >= versions.MINIMUM},
                  key=lambda text: tuple(map(int, text.split("."))))  # fmt: skip


def run(minor: str, pytest_args: Sequence[str] = ()) -> Row:
    """`pytest tests/example` against the newest release of `minor`."""
    release = versions.resolve(minor, versions.served_releases(cache_dir()))
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--k8s-version", release,
               *pytest_args, str(CHECKOUT / "tests" / "example")]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, cwd=CHECKOUT, capture_output=True, text=True)
    seconds = time.monotonic() - started
    lines = [line for line in done.stdout.splitlines() if " in " in line and ("passed" in line or "failed" in line)]
    summary = lines[-1].strip("= ") if lines else f"exit {done.returncode}: {(done.stdout + done.stderr)[-2000:]}"
    return Row(minor, release, done.returncode == 0, summary, seconds)


def table(rows: list[Row]) -> str:
    lines = ["| minor | release | tests/example | time |", "|---|---|---|---|"]
    lines += [f"| {row.minor} | {row.release} | {row.summary} | {row.seconds:.0f} s |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ours, pytest_args = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(prog="python -m tests.versions", description=__doc__)
    parser.add_argument("minors", nargs="*", help="minors such as 1.34 (default: every supported one)")
    args = parser.parse_args(ours)
    rows = []
    for minor in args.minors or supported_minors():
        print(f" • Kubernetes {minor}: tests/example ...", file=sys.stderr, flush=True)
        rows.append(run(minor, pytest_args))
        print(f" {'✓' if rows[-1].passed else '✗'} Kubernetes {minor}: {rows[-1].summary}", file=sys.stderr)
    print(table(rows))
    return 0 if all(row.passed for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
