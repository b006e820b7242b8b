"""Command line for humans: `pytest-single-k8s COMMAND` or `python -m pytest_single_k8s COMMAND`;
COMMANDS lists them. Errors (ours and the engine's) are one line each, `error: ...`, exit code 1.
"""

from __future__ import annotations

import argparse
import datetime
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.utils.socket
import requests.exceptions
from docker.utils.socket import STDOUT

from ..build import archive, registry
from ..build.images import Images
from ..build.recipes import NAMES
from ..cluster import credentials, diagnostics, kept, reaping, reuse
from ..cluster.create import create_cluster
from ..cluster.handle import Cluster
from ..cluster.names import APISERVER_PORT, COMPONENTS, KUBECTL, NETWORK, REAPER
from ..common import paths
from ..common.progress import Status
from ..engine import lock
from ..engine.connection import connect
from ..engine.containers import listed
from ..engine.labels import CLUSTER_LABEL, COMPONENT_LABEL, KEPT_LABEL, OWNER_LABEL, REAPER_LABEL
from ..errors import SingleK8sError
from ..settings import OPTIONS
from . import project

IMAGE_OPTIONS = (
    "version",
    "binaries",
    "release_url",
    "etcd_url",
    "cri_dockerd_url",
    "base_image",
    "registry_mirror",
    "images_from",
)  # what the images command takes

SETUP_HOST = """\
Make a Docker engine answer on this host. Where none does, as root on Debian:
install Debian's docker.io and mmdebstrap, and start dockerd (with a runtime
wrapper where the host lacks CAP_SYS_RESOURCE). Where one answers: nothing.

It runs the script installed with the package, and passes its exit code through:
  bash {script}
"""

COMMANDS = {  # name -> what it does, in one line (data, not the docstring: `python -OO` drops docstrings)
    "up": "start a cluster and keep it (pytest sessions with the same settings attach to it)",
    "status": "the cluster on this engine: version, address, components with state and uptime",
    "kubeconfig": "print the path of its admin kubeconfig",
    "kubectl": "run kubectl in its kubectl container (the exit code is passed through)",
    "logs": "print one component's log, or write them all to a directory",
    "down": "delete your clusters on this Docker engine (with --all, every user's)",
    "images": "build the missing images and list the cached ones; save or load the set as one file (a CI cache)",
    "setup-host": "make a Docker engine answer on this host (as root on Debian: install and start one)",
}
ENGINE_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)  # the engine's own


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except SingleK8sError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except ENGINE_ERRORS as error:
        print(f"error: the Docker engine: {error}", file=sys.stderr)
        return 1


def run() -> None:
    """The console script's entry point."""
    sys.exit(main())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-single-k8s", description="A real, throwaway, single-node Kubernetes cluster on this Docker engine."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, run: Any, description: str = "") -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=COMMANDS[name], description=description or COMMANDS[name])
        sub.set_defaults(run=run)
        return sub

    up = command(
        "up",
        _up,
        "Start a cluster and keep it running; print the line that points kubectl and clients at it. "
        "A kept cluster with the same settings is reused; `pytest` attaches to it. The settings are those "
        "`pytest` run here has (its ini file, addopts), these flags winning.",
    )
    for name in (*IMAGE_OPTIONS, "api_port", "extra_args", "wait_timeout", "ready_timeout", "addons"):
        option = OPTIONS[name]
        up.add_argument(
            option.flag, dest=name, action="append" if name == "extra_args" else "store", help=option.described()
        )
    command("status", _status)
    command("kubeconfig", _kubeconfig)
    kubectl = command("kubectl", _kubectl, "Run kubectl in the cluster's kubectl container: `kubectl get pods -A`.")
    kubectl.add_argument("arguments", nargs=argparse.REMAINDER, help="kubectl's arguments")
    logs = command("logs", _logs)
    logs.add_argument("component", nargs="?", choices=(NETWORK, *COMPONENTS), help="the component whose log to print")
    logs.add_argument("--dir", type=Path, help="write every component's log to this directory instead")
    down = command(
        "down",
        _down,
        "Delete your clusters on this Docker engine, kept or not, also under a running session; "
        "other users' are left and named.",
    )
    down.add_argument("--all", dest="everyone", action="store_true", help="delete every user's clusters")
    images = command(
        "images",
        _images,
        "Build the missing images and list the cached ones, for the settings `pytest` run here has (its ini "
        "file, addopts), these flags winning.",
    )
    for name in IMAGE_OPTIONS:
        images.add_argument(OPTIONS[name].flag, dest=name, help=OPTIONS[name].described())
    setup_host = command("setup-host", _setup_host, SETUP_HOST.format(script=paths.SETUP_SCRIPT))
    setup_host.formatter_class = argparse.RawDescriptionHelpFormatter  # the script's path on a line of its own
    images.add_argument(
        "--prune",
        action="store_true",
        help="also remove our images that no current recipe produces (other versions' and sources' are kept)",
    )
    images.add_argument("--save", metavar="FILE", type=Path, help="then write the set to FILE, one archive")
    images.add_argument(
        "--load",
        metavar="FILE",
        type=Path,
        help="first load a set --save wrote (a CI cache); what it lacks is built, and said so",
    )
    images.add_argument("--push", metavar="PREFIX", help="then push the set to a registry, e.g. registry:5000/psk8s")
    images.add_argument(
        "--key", action="store_true", help="only print a key for what the set is made of (for a CI cache's key)"
    )
    return parser


def _as_pytest_flags(args: argparse.Namespace) -> list[str]:
    """The settings given to this command, as flags on pytest's command line (the same flags)."""
    given = {name: getattr(args, name) for name in OPTIONS if getattr(args, name, None) is not None}
    values = {name: value if isinstance(value, list) else [value] for name, value in given.items()}
    return [f"{OPTIONS[name].flag}={value}" for name, listed in values.items() for value in listed]


def _up(args: argparse.Namespace) -> int:
    chosen = project.settings(_as_pytest_flags(args))
    client, status = connect(), Status()
    images = Images.chosen(client, chosen.wanted(), status)
    images.ensure()
    cluster = create_cluster(client, images, status, keep=True, **chosen.cluster_options())
    cluster.close()  # a kept cluster stays, its kubeconfig saved
    print(f"export KUBECONFIG={credentials.saved(cluster.plan.cluster_id)}")
    return 0


def _the_cluster(client: docker.DockerClient) -> tuple[str, dict[str, str]]:
    """The cluster on this engine: the kept one, else the one that holds the engine."""
    found = reuse.kept_cluster(client) or next(iter(lock.clusters(client).items()), None)
    if found is None:
        raise SingleK8sError("no cluster of pytest-single-k8s on this Docker engine; start one: `pytest-single-k8s up`")
    return found


def _components(client: docker.DockerClient, cluster_id: str) -> dict[str, Any]:
    found = listed(client, {"label": f"{CLUSTER_LABEL}={cluster_id}"})
    return {container.labels.get(COMPONENT_LABEL, container.name): container for container in found}


def _status(args: argparse.Namespace) -> int:
    client = connect()
    cluster_id, labels = _the_cluster(client)
    state = kept.read_state(client, cluster_id) or {}
    saved = credentials.saved(cluster_id)
    components = _components(client, cluster_id)
    ports = components[NETWORK].attrs["NetworkSettings"]["Ports"] if NETWORK in components else {}
    published = (ports or {}).get(f"{APISERVER_PORT}/tcp") or [{}]
    print(f"cluster     {cluster_id}{' (kept)' if KEPT_LABEL in labels else ''}")
    print(f"kubernetes  {state.get('plan', {}).get('version', '(starting)')}")
    print(f"apiserver   https://127.0.0.1:{published[0].get('HostPort', '?')}")
    print(f"kubeconfig  {saved if saved.is_file() else '(`pytest-single-k8s kubeconfig` writes it)'}")
    print(f"owner       {'none (kept)' if KEPT_LABEL in labels else labels.get(OWNER_LABEL, '?')}")
    now = datetime.datetime.now(datetime.UTC)
    reapers = listed(client, {"label": f"{REAPER_LABEL}={cluster_id}"})
    for name in (NETWORK, *COMPONENTS, REAPER):
        container = components.get(name) or (reapers[0] if name == REAPER and reapers else None)
        if container is None:
            print(f"  {name:25} missing")
            continue
        state_of = container.attrs["State"]
        line = f"  {name:25} {state_of['Status']:10}"
        if state_of["Running"]:
            started = datetime.datetime.fromisoformat(state_of["StartedAt"])
            line += f" up {_duration((now - started).total_seconds())}"
        else:
            line += f" exit code {state_of['ExitCode']}"
        print(line)
    return 0


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


def _kubeconfig(args: argparse.Namespace) -> int:
    client = connect()
    cluster_id, _ = _the_cluster(client)
    state = kept.read_state(client, cluster_id)
    if state is None:
        raise SingleK8sError(f"cluster {cluster_id} has not finished starting: `pytest-single-k8s status`")
    cluster = Cluster.from_state(client, state, Status())
    print(credentials.save(cluster_id, cluster.credentials))
    cluster.close_credentials()
    return 0


def _kubectl(args: argparse.Namespace) -> int:
    client = connect()
    cluster_id, _ = _the_cluster(client)
    container = _components(client, cluster_id).get(KUBECTL)
    if container is None or container.status != "running":
        raise SingleK8sError(f"the kubectl container of cluster {cluster_id} does not run: `pytest-single-k8s status`")
    # What comes on stdin goes to kubectl (`kubectl apply -f -`), unless stdin is a terminal.
    feed = not sys.stdin.isatty()
    execution = client.api.exec_create(container.id, ["kubectl", *args.arguments], stdin=feed)
    if feed:
        connection = client.api.exec_start(execution["Id"], socket=True)
        raw = getattr(connection, "_sock", connection)  # docker-py hands back a SocketIO around it
        threading.Thread(target=_send_stdin, args=(raw,), daemon=True).start()
        frames = docker.utils.socket.frames_iter(connection, tty=False)
        chunks = ((chunk, None) if stream == STDOUT else (None, chunk) for stream, chunk in frames)
    else:
        chunks = client.api.exec_start(execution["Id"], stream=True, demux=True)
    for stdout, stderr in chunks:
        for stream, chunk in ((sys.stdout, stdout), (sys.stderr, stderr)):
            if chunk:
                stream.buffer.write(chunk)
                stream.flush()
    return int(client.api.exec_inspect(execution["Id"])["ExitCode"])


def _send_stdin(raw: Any) -> None:
    """This process's stdin to an exec's, then its end."""
    try:
        while chunk := os.read(sys.stdin.fileno(), 65536):
            raw.sendall(chunk)
        raw.shutdown(socket.SHUT_WR)
    except OSError:  # kubectl ended first
        pass


def _logs(args: argparse.Namespace) -> int:
    client = connect()
    cluster_id, _ = _the_cluster(client)
    if args.dir is not None:
        budget = diagnostics.Budget(seconds=600)
        for path in diagnostics.export(args.dir, client, cluster_id, None, None, budget):
            print(path)
        return 0
    if args.component is None:
        raise SingleK8sError("name a component, or give --dir to write every component's log")
    container = _components(client, cluster_id).get(args.component)
    if container is None:
        raise SingleK8sError(f"cluster {cluster_id} has no {args.component} container")
    sys.stdout.buffer.write(container.logs())
    return 0


def _down(args: argparse.Namespace) -> int:
    """Each cluster is cleaned up with the image it ran: nothing is resolved or built."""
    deleted, left = reaping.down(connect(), Status(), args.everyone)
    print(_down_report(deleted, left, args.everyone))
    return 0


def _down_report(deleted: reaping.Clusters, left: reaping.Clusters, everyone: bool) -> str:
    """What `down` did, in words: whose each cluster was, with --all; the clusters left, and how to delete them."""
    said = []
    if deleted:
        ids = (f"{cid} ({lock.whose(labels)})" if everyone else cid for cid, labels in deleted.items())
        said.append(f"deleted {len(deleted)} cluster(s): {', '.join(ids)}")
    if left:
        others = ", ".join(f"{cid} ({lock.whose(labels)})" for cid, labels in left.items())
        said.append(
            f"left {len(left)} cluster(s) of other users: {others}; "
            "`pytest-single-k8s down --all` deletes them, their sessions' too"
        )
    return "\n".join(said) or "no cluster on this engine"


def _images(args: argparse.Namespace) -> int:
    started, status = time.monotonic(), Status()
    chosen = project.settings(_as_pytest_flags(args))
    client = connect()
    # Loaded before the set is chosen: with `auto`, the binaries' source is the one whose images are there.
    loaded = archive.load(client, args.load, status) if args.load else []
    built = Images.chosen(client, chosen.wanted(), status)
    refs = [built.ref(name) for name in NAMES]
    if args.key:
        print(archive.key(refs))
        return 0
    lacking = [ref for ref in refs if ref not in loaded] if args.load else []
    if lacking:
        building = [built.ref(name) for name in built.missing()]
        status.info(
            f"{args.load} lacks {len(lacking)} of the {len(refs)} images these settings use (it was saved for other "
            f"settings or by another version of pytest-single-k8s): {', '.join(lacking)}; "
            + (f"building {', '.join(building)}" if building else "this engine has them already")
        )
    built.ensure()
    for tag in built.prune() if args.prune else ():
        print(f"removed {tag}", file=sys.stderr)
    for image in built.listing():
        print(f"{image.ref:48} {image.size / 1e6 if image.size else 0:8.1f} MB  {image.origin}".rstrip())
    if args.push:
        registry.push(client, args.push, refs, status)
        print(f"pushed {len(refs)} images to {args.push}", file=sys.stderr)
    if args.save:
        size = archive.save(client, refs, args.save, status)
        print(f"saved {len(refs)} images to {args.save}: {size / 1e6:.0f} MB", file=sys.stderr)
    print(
        f"Kubernetes {built.versions.kubernetes}: all images ready in {time.monotonic() - started:.1f}s",
        file=sys.stderr,
    )
    return 0


def _setup_host(args: argparse.Namespace) -> int:
    """The installed script, as the README's first commands run it from a checkout."""
    return subprocess.run(["bash", str(paths.SETUP_SCRIPT)], check=False).returncode
