"""The few exceptions the plugin raises; each message says what failed and what to do."""


class SingleK8sError(Exception):
    """Base class: anything the plugin reports to the user as a failure."""


class VersionError(SingleK8sError):
    """A requested version is malformed, unsupported or not served."""


class BuildError(SingleK8sError):
    """Building a binary or an image failed."""


class EngineBusy(SingleK8sError):
    """Another session's cluster runs on this Docker engine."""


class ForeignKubernetes(SingleK8sError):
    """Another Kubernetes (its kubelet or its pods) uses this Docker engine or host."""


class NotOurCluster(SingleK8sError):
    """The session runs against a cluster we did not start (--k8s-kubeconfig), and this needs our containers."""


class DockerUnavailable(SingleK8sError):
    """No Docker engine answers."""


class ComponentFailed(SingleK8sError):
    """A cluster component exited or never became ready; the message carries its last log lines."""

    def __init__(self, component: str, problem: str, logs: str, hint: str = "") -> None:
        self.component = component
        lines = "\n".join(f"    {line}" for line in logs.rstrip().splitlines()) or "    (no output)"
        message = f"{component} {problem}; its last log lines:\n{lines}"
        super().__init__(message + (f"\n  hint: {hint}" if hint else ""))
