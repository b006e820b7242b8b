"""The few exceptions the plugin raises; each message says what failed and what to do."""


class SingleK8sError(Exception):
    """Base class: anything the plugin reports to the user as a failure."""


class VersionError(SingleK8sError):
    """A requested version is malformed, unsupported or not served."""


class BuildError(SingleK8sError):
    """Building a binary or an image failed."""


class DockerUnavailable(SingleK8sError):
    """No Docker engine answers."""
