"""Where the plugin keeps files between runs, and where its recipes and host set-up live."""

import os
from pathlib import Path

SETUP_SCRIPT = Path(__file__).parent.parent / "host" / "setup.sh"  # installed with the package
# How hints name the host set-up: the command, and the script it runs (where the command is not on PATH).
SETUP_HOST = f"`pytest-single-k8s setup-host` (it runs `bash {SETUP_SCRIPT}`)"


def cache_dir() -> Path:
    """The cache root: $PYTEST_SINGLE_K8S_CACHE, else $XDG_CACHE_HOME or ~/.cache."""
    explicit = os.environ.get("PYTEST_SINGLE_K8S_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "pytest-single-k8s"


def recipes_dir() -> Path:
    """The image recipes: packaged inside the wheel, or images/ beside a source checkout."""
    package = Path(__file__).parent.parent
    packaged = package / "images"
    return packaged if packaged.is_dir() else package.parent / "images"
