"""The project's own pytest configuration warns nobody: the README's first command runs without
pytest-asyncio, the full suite with it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).parents[2]


@pytest.mark.parametrize("asyncio", ["no:asyncio", "asyncio"])
def test_the_projects_ini_keys_are_known_with_and_without_pytest_asyncio(asyncio):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    environment |= {"PYTHONPATH": str(CHECKOUT), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", asyncio, "-p", "no:cacheprovider", "--co", "-q", "tests/example"],
        cwd=CHECKOUT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = result.stdout + result.stderr
    assert result.returncode == 0, said
    assert "Unknown config option" not in said
    assert "asyncio_default_fixture_loop_scope" not in said  # nor pytest-asyncio's warning that it is unset
