"""Which Kubernetes versions exist: the Go module proxy's list is the truth.

A requested version is checked before anything is built: "1.37.2" and "v1.37.2"
name a release, "1.37" the newest patch of a minor, "latest" (or nothing) the
newest release served. The proxy's list is kept for a day in the cache, so a
cached run does not wait on the network, and a stale list still serves offline.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from ..errors import BuildError, VersionError
from . import goproxy
from .gobuild import KUBERNETES_MODULE

MINIMUM = (1, 34)  # the oldest minor tested (tests/versions), as the clouds still run it
LIST_MAX_AGE = 24 * 3600
_REQUEST = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")
_RELEASE = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")

Release = tuple[int, int, int]
Request = tuple[int, int, int | None]


def parse_release(text: str) -> Release | None:
    found = _RELEASE.match(text.strip())
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def tag(release: Release) -> str:
    return "v{}.{}.{}".format(*release)


def served_releases(cache: Path, now: float | None = None) -> list[Release]:
    """Released (non pre-release) versions of k8s.io/kubernetes, oldest first."""
    now = time.time() if now is None else now
    cached = cache / "kubernetes-versions.json"
    try:
        saved = json.loads(cached.read_text())
    except (OSError, ValueError):  # absent, or unreadable: as good as absent
        saved = None
    if saved and now - saved["fetched"] < LIST_MAX_AGE:
        return [tuple(r) for r in saved["releases"]]
    try:
        listing = goproxy.fetch(KUBERNETES_MODULE, "list", timeout=15)
    except BuildError:
        if saved:  # offline: an old list beats no list
            return [tuple(r) for r in saved["releases"]]
        raise
    releases = sorted(r for r in map(parse_release, listing.split()) if r)
    cache.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a concurrent reader sees the old list or the new, never half of one.
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps({"fetched": now, "releases": releases}))
    os.replace(partial, cached)
    return releases


def minimum() -> str:
    return "{}.{}".format(*MINIMUM)


def parse_request(requested: str | None, supported: list[Release] | None = None) -> Request | None:
    """(major, minor, patch or None) for a request, None for 'latest'; malformed or too old is a VersionError.
    `supported`, where known, gives the messages their examples and choices."""
    text = (requested or "latest").strip()
    if text == "latest":
        return None
    found = _REQUEST.match(text)
    example = supported[-1] if supported else (*MINIMUM, 0)
    if not found:
        raise VersionError(
            f"malformed Kubernetes version {text!r}: use 'latest', a minor such as "
            f"'{example[0]}.{example[1]}', or a release such as '{tag(example)}'"
        )
    major, minor = int(found[1]), int(found[2])
    if (major, minor) < MINIMUM:
        choices = f"; supported releases (the Go module proxy's): {_listing(supported)}" if supported else ""
        raise VersionError(f"Kubernetes {text} is not supported: pytest-single-k8s needs {minimum()} or later{choices}")
    return (major, minor, None if found[3] is None else int(found[3]))


def exact(requested: str | None) -> str | None:
    """The release tag a request names exactly ('1.37.2', 'v1.37.2'), else None ('latest', a minor, malformed)."""
    found = _REQUEST.match((requested or "").strip())
    return tag((int(found[1]), int(found[2]), int(found[3]))) if found and found[3] is not None else None


def resolve(requested: str | None, served: list[Release]) -> str:
    """The release tag for a request, or a VersionError that names valid choices."""
    supported = [r for r in served if r[:2] >= MINIMUM]
    if not supported:
        raise VersionError(f"the Go module proxy serves no Kubernetes release >= {minimum()}")
    wanted = parse_request(requested, supported)
    if wanted is None:
        return tag(supported[-1])
    major, minor, patch = wanted
    if patch is None:
        patches = [r for r in supported if r[:2] == (major, minor)]
        if patches:
            return tag(patches[-1])
    elif (major, minor, patch) in supported:
        return tag((major, minor, patch))
    text = (requested or "").strip()
    target = (major, minor, patch or 0)
    nearest = sorted(supported, key=lambda r: (_distance(r, target), r))[:3]
    raise VersionError(
        f"Kubernetes {text} is not served by the Go module proxy ({goproxy.proxy_url()}); "
        f"nearest valid versions: {', '.join(tag(r) for r in sorted(nearest, reverse=True))}"
    )


def _distance(a: Release, b: Release) -> tuple[int, int, int]:
    return (abs(a[0] - b[0]), abs(a[1] - b[1]), abs(a[2] - b[2]))


def _listing(releases: list[Release]) -> str:
    newest_per_minor: dict[tuple[int, int], Release] = {}
    for release in releases:
        newest_per_minor[release[:2]] = release
    return ", ".join(tag(r) for r in sorted(newest_per_minor.values(), reverse=True))
