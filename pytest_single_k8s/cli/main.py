"""Command line for humans.

python -m pytest_single_k8s images [--k8s-version V] [--prune]   build what is missing, list the cache
python -m pytest_single_k8s down                                 delete every cluster on this Docker engine
"""

from __future__ import annotations

import argparse
import sys
import time

from ..build import versions
from ..build.images import Images
from ..build.recipes import Versions
from ..cluster import reaping
from ..common.paths import cache_dir
from ..common.progress import Status
from ..engine.connection import connect
from ..errors import SingleK8sError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_single_k8s")
    commands = parser.add_subparsers(dest="command", required=True)
    images = commands.add_parser("images", help="build the missing images and list the cached ones")
    images.add_argument(
        "--k8s-version", default="latest", help="'latest', a minor like 1.36, or a release like v1.37.2"
    )
    images.add_argument(
        "--prune",
        action="store_true",
        help="also remove our images that no current recipe produces (other versions' are kept)",
    )
    commands.add_parser("down", help="delete every cluster on this Docker engine, whoever started it; builds nothing")
    args = parser.parse_args(argv)
    try:
        if args.command == "down":
            return _down()
        return _images(args.k8s_version, args.prune)
    except SingleK8sError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _images(requested: str, prune: bool) -> int:
    started = time.monotonic()
    version = versions.resolve(requested, versions.served_releases(cache_dir()))
    built = Images(connect(), Versions(kubernetes=version), Status())
    built.ensure()
    for tag in built.prune() if prune else ():
        print(f"removed {tag}", file=sys.stderr)
    for image in built.listing():
        print(f"{image.ref:48} {image.size / 1e6 if image.size else 0:8.1f} MB")
    print(f"Kubernetes {version}: all images ready in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return 0


def _down() -> int:
    """Each cluster is cleaned up with the image it ran: nothing is resolved or built."""
    deleted = reaping.delete_all(connect(), Status())
    print(f"deleted {len(deleted)} cluster(s): {' '.join(deleted)}" if deleted else "no cluster on this engine")
    return 0
