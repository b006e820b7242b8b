"""Running one of the kubernetes image's host scripts (images/kubernetes) in a one-shot helper."""

from __future__ import annotations

import docker
import docker.errors

from ..engine import oneshot
from ..engine.labels import HELPER_LABEL
from ..errors import ComponentFailed


def run_script(
    client: docker.DockerClient,
    image: str,
    cluster_id: str,
    command: list[str],
    what: str,
    timeout: float = 120,
) -> str:
    """Run `command` on the host, with its kernel modules (scripts load and unload some); a failure names the
    script and shows its output."""
    try:
        spec = oneshot.on_host(image, command, {HELPER_LABEL: cluster_id}, modules=True)
        return oneshot.run(client, spec, timeout)
    except (oneshot.OneShotFailed, docker.errors.APIError) as error:
        output = error.output if isinstance(error, oneshot.OneShotFailed) else str(error)
        script = next((word for word in command if word.startswith("host-")), command[0])
        raise ComponentFailed(
            script,
            f"could not {what}",
            output,
            "host scripts run in a privileged container with the host's PID and network namespaces; "
            "see the output above",
        ) from error
