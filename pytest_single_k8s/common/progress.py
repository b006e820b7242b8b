"""Status lines for long steps: ` • doing X ...` then ` ✓ doing X (12.3s)` or ` ✗`.

On a terminal the line is redrawn in place with the latest detail; elsewhere (CI
logs, pytest's captured output) a detail line is printed at most every
``quiet_interval`` seconds so logs stay short but a long build still shows life.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO


class Step:
    def __init__(self, status: Status, title: str) -> None:
        self._status = status
        self.title = title
        self.started = time.monotonic()
        self._last_printed = self.started
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def update(self, detail: str) -> None:
        """Report what the step is doing now (shown live on a TTY, throttled elsewhere)."""
        with self._lock:
            now = time.monotonic()
            if self._status.tty:
                self._status.redraw(f" • {self.title}: {detail} [{_duration(self.elapsed())}]")
            elif now - self._last_printed >= self._status.quiet_interval:
                self._last_printed = now
                self._status.write_line(f"   … {detail} [{_duration(self.elapsed())}]")


class Status:
    def __init__(self, stream: TextIO | None = None, quiet_interval: float = 30.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.quiet_interval = quiet_interval

    def redraw(self, text: str) -> None:
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()

    def write_line(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def info(self, text: str) -> None:
        self.write_line(text)

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[Step]:
        step = Step(self, title)
        if self.tty:
            self.redraw(f" • {title} ...")
        else:
            self.write_line(f" • {title} ...")
        try:
            yield step
        except BaseException:
            self.write_line(f" ✗ {title} [{_duration(step.elapsed())}]")
            raise
        self.write_line(f" ✓ {title} [{_duration(step.elapsed())}]")


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m{seconds:02d}s"
