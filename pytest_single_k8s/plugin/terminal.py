"""Progress lines that reach the terminal past pytest's output capture."""

from __future__ import annotations

import contextlib
import sys

import pytest

from ..common.progress import Status


class TerminalStream:
    """A stream that writes past pytest's output capture, so long steps show progress."""

    def __init__(self, config: pytest.Config) -> None:
        self._capture = config.pluginmanager.getplugin("capturemanager")

    def write(self, text: str) -> None:
        with self._uncaptured():
            sys.stderr.write(text)
            sys.stderr.flush()

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        with self._uncaptured():
            return sys.stderr.isatty()

    def _uncaptured(self) -> contextlib.AbstractContextManager[object]:
        return self._capture.global_and_fixture_disabled() if self._capture else contextlib.nullcontext()


def status(config: pytest.Config) -> Status:
    return Status(TerminalStream(config))  # type: ignore[arg-type]
