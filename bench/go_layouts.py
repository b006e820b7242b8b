"""Cold-build Kubernetes as one multi-call binary and as six separate binaries.

    python bench/go_layouts.py [--k8s-version v1.37.2]

Each layout is built with an empty Go build cache (modules already downloaded,
so both compile and link the same sources and only the layout differs) and
prints wall time, peak memory of the build's process tree and binary sizes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peak import tree_rss_kib  # noqa: E402

from pytest_single_k8s.build import gobuild  # noqa: E402
from pytest_single_k8s.build.recipes import KUBE_COMMANDS  # noqa: E402
from pytest_single_k8s.common.paths import recipes_dir  # noqa: E402


def measured(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss_kib(process.pid))
        time.sleep(0.2)
    if process.returncode:
        errors = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{command} failed: {errors[-2000:]}")
    return time.monotonic() - started, peak // 1024


def build(layout: str, version: str) -> None:
    program = gobuild.kubernetes(version, recipes_dir() / "kubernetes" / "main.go")
    ldflags = " ".join(("-s", "-w", *program.ldflags))
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as work:
        work_dir, out = Path(work), Path(work) / "bin"
        out.mkdir()
        env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod", "GOCACHE": cache}
        (work_dir / "go.mod").write_text(program.go_mod())
        if layout == "multicall":
            assert program.main_source is not None
            (work_dir / "main.go").write_bytes(program.main_source.read_bytes())
            subprocess.run(["go", "mod", "tidy"], cwd=work_dir, env=env, check=True, capture_output=True)
            packages = ["."]
        else:
            subprocess.run(
                ["go", "get", f"{program.module}@{version}"], cwd=work_dir, env=env, check=True, capture_output=True
            )
            packages = [f"{program.module}/cmd/{c}" for c in KUBE_COMMANDS]
        wall, peak = measured(
            ["go", "build", "-trimpath", "-ldflags", ldflags, "-o", f"{out}/", *packages], work_dir, env
        )
        size = sum(f.stat().st_size for f in out.iterdir())
        print(
            f"layout={layout} cold_build_s={wall:.0f} peak_rss_mib={peak} binaries_mib={size / 2**20:.0f} "
            f"files={len(list(out.iterdir()))}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k8s-version", default="v1.37.2")
    parser.add_argument("--layout", choices=("multicall", "separate"), action="append")
    args = parser.parse_args()
    for layout in args.layout or ("multicall", "separate"):
        build(layout, args.k8s_version)


if __name__ == "__main__":
    main()
