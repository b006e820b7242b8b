"""What a failed test shows of the cluster, and what `logs --dir` and --k8s-logs-dir write.

For a namespace: its events in time order with reasons and messages; every pod's
phase and container states with each container's last log lines (the previous
run's too, after a restart). For our own cluster: the components that logged
errors since the test began. Every request has a short timeout and every
section a bounded length, and the whole has a deadline: a broken cluster must
not hang a report.
"""

from __future__ import annotations

import datetime
import functools
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import kubernetes.client

from ..engine.containers import listed
from ..engine.labels import CLUSTER_LABEL, COMPONENT_LABEL

REQUEST_TIMEOUT = 5  # seconds for one API or engine request
LOG_LINES = 20  # a container's last lines in a report
ERROR_LINES = 10  # a component's last error lines in a report
EXPORT_LINES = 100_000  # a log's last lines in an exported file
DEADLINE = 30.0  # seconds for all the diagnostics of one test

# klog's error lines ("E1126 04:31:06.123 ..."), and etcd's and Go's structured ones.
ERROR_LINE = re.compile(r'^E\d{4} |"level":"(error|fatal|panic)"|\blevel=(error|fatal)\b')


class Budget:
    """The diagnostics' deadline: a step that would start after it is left out, and says so."""

    def __init__(self, seconds: float = DEADLINE) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def run(self, what: str, step: Callable[[], str]) -> str:
        if time.monotonic() > self.ends:
            return f"(left out: the {self.seconds:.0f}s for diagnostics ran out before {what})"
        try:
            return step()
        except Exception as error:  # noqa: BLE001 - a report says what it could not read, never fails
            return f"(could not read {what}: {type(error).__name__}: {error})"


def namespace_sections(
    api_client: kubernetes.client.ApiClient, namespace: str, budget: Budget
) -> list[tuple[str, str]]:
    """The report sections of one namespace: its events, then its pods."""
    core = kubernetes.client.CoreV1Api(api_client)
    return [
        (f"events in {namespace}", budget.run("the events", lambda: events(core, namespace))),
        (f"pods in {namespace}", budget.run("the pods", lambda: pods(core, namespace, budget))),
    ]


def events(core: kubernetes.client.CoreV1Api, namespace: str) -> str:
    found = core.list_namespaced_event(namespace, _request_timeout=REQUEST_TIMEOUT).items
    found.sort(key=_when)
    lines = [
        f"{_when(event):%H:%M:%S} {event.type or '':8}{event.reason or '':22}"
        f"{event.involved_object.kind}/{event.involved_object.name}: {(event.message or '').strip()}"
        + (f" (x{event.count})" if (event.count or 1) > 1 else "")
        for event in found
    ]
    return "\n".join(lines) or "(no events)"


def pods(core: kubernetes.client.CoreV1Api, namespace: str, budget: Budget) -> str:
    blocks = []
    found: list[Any] = core.list_namespaced_pod(namespace, _request_timeout=REQUEST_TIMEOUT).items
    for pod in found:
        status = pod.status
        blocks.append(f"pod {pod.metadata.name}: {status.phase}" + (f" ({status.reason})" if status.reason else ""))
        for container in [*(status.init_container_statuses or []), *(status.container_statuses or [])]:
            blocks.append(f"  container {container.name}: {_state(container)}, restarts {container.restart_count}")
            for previous in (False, True) if container.restart_count else (False,):
                title = "previous run's" if previous else "last"
                log = budget.run(
                    f"the log of {pod.metadata.name}/{container.name}",
                    functools.partial(pod_log, core, namespace, pod.metadata.name, container.name, previous, LOG_LINES),
                )
                blocks.append(f"    {title} log lines:")
                blocks.extend(f"      {line}" for line in log.splitlines() or ["(empty)"])
    return "\n".join(blocks) or "(no pods)"


def pod_log(
    core: kubernetes.client.CoreV1Api, namespace: str, pod: str, container: str, previous: bool, lines: int
) -> str:
    return core.read_namespaced_pod_log(
        pod, namespace, container=container, previous=previous, tail_lines=lines, _request_timeout=REQUEST_TIMEOUT
    )


def component_errors(client: docker.DockerClient, cluster_id: str, since: float, budget: Budget) -> str:
    """The error lines each component logged since `since` (a time.time()), by component; '' if none."""

    def read() -> str:
        blocks = []
        for component, container in _components(client, cluster_id):
            text = container.logs(since=int(since), tail=5000).decode(errors="replace")
            errors = [line for line in text.splitlines() if ERROR_LINE.search(line)][-ERROR_LINES:]
            if errors:
                blocks.append(f"{component}:\n" + "\n".join(f"  {line}" for line in errors))
        return "\n".join(blocks)

    return budget.run("the components' logs", read)


def export(
    target: Path,
    client: docker.DockerClient | None,
    cluster_id: str | None,
    api_client: kubernetes.client.ApiClient | None,
    namespace: str | None,
    budget: Budget,
) -> list[Path]:
    """Write full logs under `target`: components/<name>.log for our cluster, and for a namespace
    events.txt and pods/<pod>.<container>[.previous].log; returns the files written."""
    written: list[Path] = []

    def write(path: Path, what: str, read: Callable[[], str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(budget.run(what, read))
        written.append(path)

    if client is not None and cluster_id is not None:
        for component, container in _components(client, cluster_id):
            write(
                target / "components" / f"{component}.log",
                f"the log of {component}",
                functools.partial(_full_log, container),
            )
    if api_client is not None and namespace is not None:
        core = kubernetes.client.CoreV1Api(api_client)
        write(target / "events.txt", "the events", lambda: events(core, namespace))
        for pod, container, previous in _pod_containers(core, namespace):
            name = f"{pod}.{container}{'.previous' if previous else ''}.log"
            read = functools.partial(pod_log, core, namespace, pod, container, previous, EXPORT_LINES)
            write(target / "pods" / name, f"the log of {pod}/{container}", read)
    return written


def _full_log(container: Any) -> str:
    return container.logs(tail=EXPORT_LINES).decode(errors="replace")


def _pod_containers(core: kubernetes.client.CoreV1Api, namespace: str) -> Iterator[tuple[str, str, bool]]:
    found: list[Any] = core.list_namespaced_pod(namespace, _request_timeout=REQUEST_TIMEOUT).items
    for pod in found:
        statuses = [*(pod.status.init_container_statuses or []), *(pod.status.container_statuses or [])]
        for container in statuses:
            yield pod.metadata.name, container.name, False
            if container.restart_count:
                yield pod.metadata.name, container.name, True


def _components(client: docker.DockerClient, cluster_id: str) -> list[tuple[str, Any]]:
    found = listed(client, {"label": f"{CLUSTER_LABEL}={cluster_id}"})
    return sorted(((x.labels.get(COMPONENT_LABEL, x.name), x) for x in found), key=lambda pair: pair[0])


def _when(event: Any) -> datetime.datetime:
    moment = event.last_timestamp or event.event_time or event.first_timestamp or event.metadata.creation_timestamp
    return moment or datetime.datetime.min.replace(tzinfo=datetime.UTC)


def _state(container: Any) -> str:
    state = container.state
    if state.waiting:
        return f"waiting ({state.waiting.reason}{': ' + state.waiting.message if state.waiting.message else ''})"
    if state.terminated:
        ended = state.terminated
        return f"terminated ({ended.reason}, exit code {ended.exit_code})"
    if state.running:
        return f"running since {state.running.started_at:%H:%M:%S}" + ("" if container.ready else ", not ready")
    return "unknown"
