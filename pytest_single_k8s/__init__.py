"""pytest-single-k8s: a real, throwaway, single-node Kubernetes cluster for pytest.

The layers, each a package whose imports point only down:

    plugin/   pytest wiring: options, marker, fixtures, xdist sharing
    cli/      the command line (`pytest-single-k8s up|status|kubeconfig|kubectl|logs|down|images`)
    cluster/  one cluster: plan, PKI, create, readiness, teardown, reaping, the handle tests use
    build/    images: versions, Go builds, the Debian rootfs, recipes as data
    engine/   the Docker engine: connection, labels, one-shot helpers, preflight, ownership, the lock
    common/   small shared helpers: parallel steps, waiting, progress, processes, paths

What users import stays here: the fixtures' types and the errors.
"""

from .build.images import Images
from .cluster.external import ExternalCluster
from .cluster.handle import Cluster
from .errors import (
    BuildError,
    ComponentFailed,
    DockerUnavailable,
    EngineBusy,
    ForeignKubernetes,
    NotOurCluster,
    SingleK8sError,
    VersionError,
)

__all__ = [
    "BuildError",
    "Cluster",
    "ComponentFailed",
    "DockerUnavailable",
    "EngineBusy",
    "ExternalCluster",
    "ForeignKubernetes",
    "Images",
    "NotOurCluster",
    "SingleK8sError",
    "VersionError",
]
