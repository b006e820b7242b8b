"""What differs between the Kubernetes minors we run, as data: each row says from which minor on it
applies. A new minor needs a row only where something in it breaks us; every other minor runs as is.

cgroup v1 is the host's difference, not a minor's: configs.py sets failCgroupV1 on v1 hosts, a field
every minor we run (1.34 on) reads.
"""

from __future__ import annotations

# (first minor, feature gates) for the apiserver and the kubelet.
FEATURE_GATES: tuple[tuple[int, dict[str, bool]], ...] = (
    # cri-dockerd's streaming server speaks SPDY only; from 1.36 the apiserver would ask the kubelet for WebSockets.
    (36, {"ExtendWebSocketsToKubelet": False}),
)


def feature_gates(minor: int) -> dict[str, bool]:
    """The feature gates the components of `minor` run with."""
    gates: dict[str, bool] = {}
    for since, values in FEATURE_GATES:
        if minor >= since:
            gates |= values
    return gates
