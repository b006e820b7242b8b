"""The settings a `pytest` run in the current directory would have, for the commands whose work a
session takes up (`up`, `images`): a kept cluster made with other settings than the next `pytest`
asks for is not attached to but deleted.

pytest itself reads them, as for a run: its configuration file, found from the current directory
upward, addopts and PYTEST_ADDOPTS, with the command's flags last (so they win). It stops once the
configuration is read: nothing is collected or run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .. import plugin
from ..errors import SingleK8sError
from ..settings import Settings


class _Reader:
    """A pytest plugin that takes the settings from the configuration and ends the run there."""

    def __init__(self) -> None:
        self.settings: Settings | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_cmdline_main(self, config: pytest.Config) -> int:
        if not config.pluginmanager.is_registered(plugin):
            raise SingleK8sError(
                f"pytest in {Path.cwd()} does not load pytest-single-k8s (plugins not loaded automatically? "
                "then add `-p pytest_single_k8s.plugin` to its addopts)"
            )
        self.settings = plugin.settings(config)
        return 0


def settings(flags: list[str]) -> Settings:
    """The settings of a `pytest FLAGS` run here, read by pytest; SingleK8sError if it cannot read them."""
    reader = _Reader()
    code = pytest.main(flags, plugins=[reader])
    if reader.settings is None:
        raise SingleK8sError(f"pytest could not read its configuration in {Path.cwd()} (exit code {code}; see above)")
    return reader.settings
