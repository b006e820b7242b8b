"""What a session asks of its images: one value that the settings make and the build layer reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from .release import Mirrors

AUTO = "auto"  # for binaries and the base image: what is cached, else a download or pull, else a build here


@dataclass(frozen=True)
class Wanted:
    version: str | None = "latest"
    binaries: str = AUTO  # auto, release, source, or a directory (binaries.py)
    mirrors: Mirrors = field(default_factory=Mirrors)
    base_image: str = AUTO  # auto, an image reference, or mmdebstrap (bases.py)
    registry_mirror: str | None = None  # a registry serving the official images auto pulls (bases.py)
    images_from: str | None = None  # a registry and path holding the set by its content tags (registry.py)
