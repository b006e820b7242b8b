"""Where the plugin keeps files between runs, and where its recipes live."""

import os
from pathlib import Path


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
