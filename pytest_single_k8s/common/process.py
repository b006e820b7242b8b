"""Running a long external command (go, mmdebstrap) with its output shown as progress."""

from __future__ import annotations

import collections
import subprocess
from collections.abc import Callable
from pathlib import Path

from ..errors import BuildError


def run_streaming(
    command: list[str],
    what: str,
    on_line: Callable[[str], None],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Run `command`, handing each output line to on_line; on failure raise a
    BuildError that names `what` and shows the command's last lines."""
    tail: collections.deque[str] = collections.deque(maxlen=25)
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as process:
        assert process.stdout is not None
        try:
            for line in process.stdout:
                tail.append(line.rstrip())
                on_line(line.rstrip())
        except BaseException:  # Ctrl-C, or a failing progress display: do not leave the command running
            process.kill()
            raise
    if process.returncode != 0:
        lines = "\n".join(f"    {line}" for line in tail)
        raise BuildError(
            f"failed to build {what}: `{' '.join(command[:2])}` exited {process.returncode}; its last lines:\n{lines}"
        )
