"""A cluster reached through a kubeconfig (--k8s-kubeconfig): any cluster, of ours or not.

A kubeconfig of a kept cluster of ours on this engine (same server, same CA) gives
that cluster with its containers. Any other gives an ExternalCluster: the API
works as usual; what needs our containers raises NotOurCluster, which the plugin
turns into a skip.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import docker
import kubernetes.client
import kubernetes.config

from ..common.progress import Status
from ..errors import NotOurCluster, SingleK8sError
from . import kept
from .credentials import CA
from .handle import Cluster
from .reuse import kept_cluster


class ExternalCluster:
    """A cluster we did not start: an API client, no containers."""

    def __init__(self, kubeconfig: Path, context: str | None = None) -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self.configuration = configuration(kubeconfig, context)
        self.server = self.configuration.host
        self.api_client = kubernetes.client.ApiClient(self.configuration)

    def _ours_only(self, what: str) -> NoReturn:
        raise NotOurCluster(
            f"{what} needs the containers of a cluster of pytest-single-k8s; the session runs against "
            f"{self.server} (--k8s-kubeconfig {self.kubeconfig})"
        )

    @property
    def plan(self) -> NoReturn:
        self._ours_only("the cluster's plan")

    @property
    def node_address(self) -> NoReturn:
        self._ours_only("the node's address")

    def container(self, component: str) -> NoReturn:
        self._ours_only(f"the {component} container")

    def logs(self, component: str, tail: int = 50) -> NoReturn:
        self._ours_only(f"the log of {component}")

    def kubectl(self, *args: str) -> NoReturn:
        self._ours_only("kubectl in the kubectl container")

    def stop(self, component: str, timeout: int = 10) -> NoReturn:
        self._ours_only(f"stopping {component}")

    def start(self, component: str) -> NoReturn:
        self._ours_only(f"starting {component}")

    def restart(self, component: str, timeout: int = 10) -> NoReturn:
        self._ours_only(f"restarting {component}")

    def close(self) -> None:
        self.api_client.close()


def configuration(kubeconfig: Path, context: str | None) -> kubernetes.client.Configuration:
    """The client configuration a kubeconfig gives (a missing file or context is named)."""
    if not kubeconfig.is_file():
        raise SingleK8sError(f"--k8s-kubeconfig {kubeconfig}: no such file")
    loaded = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_kube_config(str(kubeconfig), context=context, client_configuration=loaded)
    except (kubernetes.config.ConfigException, ValueError, KeyError) as error:
        raise SingleK8sError(f"--k8s-kubeconfig {kubeconfig} (context {context or 'current'}): {error}") from error
    return loaded


def connect(
    kubeconfig: Path, context: str | None, client: docker.DockerClient | None, status: Status
) -> Cluster | ExternalCluster:
    """The cluster a kubeconfig points at: our kept one with its containers where it is one, else external."""
    external = ExternalCluster(kubeconfig, context)
    found = kept_cluster(client) if client is not None else None
    if client is None or found is None:
        return external
    state = kept.read_state(client, found[0])
    ca = Path(external.configuration.ssl_ca_cert or "")
    if state is None or not ca.is_file():
        return external
    cluster = Cluster.from_state(client, state, status)
    if cluster.server != external.server or cluster.credentials.contents[CA] != ca.read_bytes():
        cluster.close_credentials()
        return external
    cluster.hold()
    external.close()
    status.info(f" ✓ --k8s-kubeconfig points at the kept cluster {cluster.plan.cluster_id} of this engine")
    return cluster
