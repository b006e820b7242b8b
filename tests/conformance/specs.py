"""Which conformance specs run, as data.

SUBSET     (subset.txt) the fixed subset CI runs (tests/conformance/test_subset.py): about ten minutes on
           two cores, chosen to touch every component: the apiserver and etcd (CRUD, watch,
           discovery, CRDs, admission and conversion webhooks, RBAC reviews), the
           controller-manager (Deployments, ReplicaSets, Jobs, garbage collection, quota,
           EndpointSlices, PodDisruptionBudgets, ServiceAccount tokens), the scheduler, the
           kubelet with cri-dockerd (exec, init containers, hooks, the downward API, ConfigMap,
           Secret, EmptyDir, projected and subPath volumes), kube-proxy (ClusterIP, NodePort,
           ExternalName), CoreDNS (records, pod dnsConfig, OIDC discovery by name), the
           apiserver's proxy to pods and Services, and kubectl on this host.
NOT_HERE   the conformance specs a single node of ours cannot pass, each with the reason: they
           are reported as skipped with it, and the README's table is this one.
Everything else that is [Conformance] and neither [Serial], [Slow] nor [Disruptive] runs by
default (ALL).
"""

from __future__ import annotations

from pathlib import Path

SUITE = "Kubernetes e2e suite "  # ginkgo matches a focus against this and the spec's full name
ALL = "Conformance && !Serial && !Slow && !Disruptive"  # a ginkgo label filter

_LINES = (Path(__file__).parent / "subset.txt").read_text().splitlines()
SUBSET = tuple(line for line in _LINES if line and not line.startswith("#"))

NOT_HERE = {
    "[sig-architecture] Conformance Tests should have at least two untainted nodes [Conformance]": (
        "a single-node cluster: it checks for two schedulable nodes"
    ),
    "[sig-apps] Daemon set should rollback without unnecessary restarts [Conformance] [Serial]": (
        "a single-node cluster: it needs more than one schedulable node"
    ),
    "[sig-node] ImageVolume should succeed with pod and pull policy of Always [LinuxOnly] [MinimumKubeletVersion:1.35] "
    "[Conformance]": "cri-dockerd has no image volumes, and pull policy Always needs a registry",
    "[sig-auth] Projected PodCertificate [FeatureGate:PodCertificateRequest] [FeatureGate:ClusterTrustBundle] "
    "[FeatureGate:ClusterTrustBundleProjection] should allow server and client pods to establish an mTLS connection "
    "[MinimumKubeletVersion:1.37] [Conformance]": (
        "its pods use pull policy Always, and no registry serves the e2e images"
    ),
    "[sig-network] HostPort validates that there is no conflict between pods with same hostPort but different hostIP "
    "and protocol [LinuxOnly] [Conformance]": (
        "cri-dockerd publishes host ports through Docker, which serves one on 127.0.0.1 by its userland proxy "
        "without address translation; the kubelet's rule against incoming localnet connections then drops the "
        "spec's connection from the node's address to it"
    ),
    **{
        "[sig-node] Pod InPlace Resize Container burstable pods - extended "
        f"{name} [MinimumKubeletVersion:1.34] [Conformance]": (
            "cri-dockerd reports no container resources, and the kubelet then fills them from what it allocated, "
            "with memory 0 for a container that asked for none"
        )
        for name in (
            "resize with equivalents",
            "6 containers - various operations performed (including adding limits and requests)",
        )
    },
}


def focus(codenames: tuple[str, ...] | list[str]) -> str:
    """A ginkgo focus that selects exactly these specs: RE2 (Go's regexp) knows no escaped space, so only
    the characters special to it are escaped."""
    return "^" + escape(SUITE) + "(?:" + "|".join(escape(name) for name in codenames) + ")$"


def escape(text: str) -> str:
    return "".join("\\" + character if character in "\\.+*?()|[]{}^$" else character for character in text)
