"""The names we give things on the engine: one source for every label key and fixed name.

Everything a cluster starts carries CLUSTER_LABEL, so that listing and deleting
work from Docker's state alone, also after the process that made it died.
"""

# Our images' names: `localhost/` is a registry no one else serves, so no pull of a name of ours can
# reach a public registry (Docker would resolve a bare `pytest-single-k8s/...` to Docker Hub).
REPOSITORY = "localhost/pytest-single-k8s"
LABEL = "io.github.pytest-single-k8s"
CLUSTER_LABEL = f"{LABEL}.cluster"
COMPONENT_LABEL = f"{LABEL}.component"
OWNER_LABEL = f"{LABEL}.owner"
USER_LABEL = f"{LABEL}.user"  # the uid of the user whose process made the cluster: `down` deletes theirs
DIRECTORY_LABEL = f"{LABEL}.directory"
REAPER_LABEL = f"{LABEL}.reaper"  # the reaper of a cluster: not a component, removed last
LEASE_LABEL = f"{LABEL}.lease"  # a session's lease on a cluster (engine/lease.py): the cluster's id
DELETING_LABEL = f"{LABEL}.deleting"  # a session's named lease while it deletes a kept cluster: its id
KEPT_LABEL = f"{LABEL}.kept"  # on a kept cluster's containers: the fingerprint of its settings
HELPER_LABEL = f"{LABEL}.helper"  # one-shot helper containers
VERSION_LABEL = f"{LABEL}.kubernetes-version"  # on images: the Kubernetes release they hold
BINARIES_LABEL = f"{LABEL}.binaries"  # on images: where their upstream binaries came from (kind, then details)
PULLED_LABEL = f"{LABEL}.pulled"  # on images built FROM a pulled image (--k8s-base-image): its reference
POD_UID_LABEL = "io.kubernetes.pod.uid"  # cri-dockerd's label on every pod container
POD_LOG_LABEL = "io.kubernetes.container.logpath"  # cri-dockerd's on a pod's containers: its log file, by path
# The reaper's fixed name makes it the engine's lock: Docker refuses a second
# container of that name, so two sessions can never both start a cluster.
REAPER_NAME = "pytest-single-k8s-reaper"
