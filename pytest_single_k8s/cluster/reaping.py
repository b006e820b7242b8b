"""Deleting clusters found on the engine: those no session uses any more, once a session holds
the engine and before it starts one, and for `pytest-single-k8s down` the user's own (with
--all, every one).

Whether a cluster is still used is judged by its reaper alone (images/kubernetes/reaper), from
its sessions' leases (engine/lease.py): a running reaper means a cluster still used, or one
being reaped right now. A cluster whose reaper is gone, or was created and never started
within lock.CLAIM_GRACE, is abandoned. The host-wide part of a clean-up runs only while
the engine is held (teardown.Stage.holding): by the session that reaps, by the
cluster's own reaper, or by `down`. Nothing here builds an image: the clean-up
runs with the image the cluster itself ran.
"""

from __future__ import annotations

import secrets

import docker

from ..common.progress import Status
from ..engine import lock, ownership
from ..engine.containers import listed
from ..engine.labels import CLUSTER_LABEL, DIRECTORY_LABEL, LABEL, OWNER_LABEL, REAPER_LABEL
from ..errors import SingleK8sError
from . import credentials, teardown


def abandoned(client: docker.DockerClient) -> dict[str, dict[str, str]]:
    """The clusters on the engine whose reaper no longer watches an owner, with their labels.

    Clusters are listed before reapers: a cluster claimed in between has its reaper in the
    second listing, whereas the other order would take it for abandoned.
    """
    clusters = lock.clusters(client)
    watched = lock.watched(client)
    return {cid: labels for cid, labels in clusters.items() if cid not in watched}


def reap_abandoned(client: docker.DockerClient, status: Status, holding: str) -> list[str]:
    """Delete every abandoned cluster while `holding` holds the engine; return their ids. One whose
    clean-up leaves something is reported and stays listed for a later try: it is no reason to
    fail this session."""
    found = abandoned(client)
    for cluster_id, labels in found.items():
        try:
            with status.step(f"Removing cluster {cluster_id}, left by process {labels.get(OWNER_LABEL, '?')}"):
                delete(client, cluster_id, labels, holding)
        except teardown.TeardownIncomplete as error:
            status.info(f"   {error}")
    return list(found)


Clusters = dict[str, dict[str, str]]  # cluster id -> the labels of one of its containers


def for_down(found: Clusters, everyone: bool) -> tuple[Clusters, Clusters]:
    """The clusters `down` deletes and those it leaves: this user's (with `everyone`, all of them), and
    the rest. A cluster made by older code, which recorded no user, counts as another user's."""
    chosen = {cid: labels for cid, labels in found.items() if everyone or ownership.is_mine(labels)}
    return chosen, {cid: labels for cid, labels in found.items() if cid not in chosen}


def down(client: docker.DockerClient, status: Status, everyone: bool = False) -> tuple[Clusters, Clusters]:
    """Delete this user's clusters on this engine (with `everyone`, every one), kept or not, in use or not;
    return those deleted and those left, each with its labels. Those whose reaper watches are deleted
    under their own lock; the others once the engine is free, under one `down` holds for them."""
    chosen, left = for_down(lock.clusters(client), everyone)
    watched = lock.watched(client)
    failures: list[str] = []

    def each(cluster_ids: list[str], holding: str = "") -> None:
        for cluster_id in cluster_ids:
            labels = chosen[cluster_id]
            try:
                with status.step(f"Deleting cluster {cluster_id} ({lock.whose(labels)})"):
                    delete(client, cluster_id, labels, holding)
            except SingleK8sError as error:
                failures.append(str(error))

    each([cid for cid in chosen if cid in watched])
    rest = [cid for cid in chosen if cid not in watched]
    if rest:
        holder_id = f"down-{secrets.token_hex(4)}"
        with lock.held(client, helper_image(client, rest[0]), holder_id):
            each(rest, holder_id)
    if failures:
        raise SingleK8sError("; ".join(failures))
    return chosen, left


def helper_image(client: docker.DockerClient, cluster_id: str) -> str:
    """The kubernetes image to clean up with: the one the cluster ran, else the newest one here."""
    ours = [f"{REAPER_LABEL}={cluster_id}", f"{CLUSTER_LABEL}={cluster_id}"]
    for container in (x for label in ours for x in listed(client, {"label": label})):
        if container.image.labels.get(LABEL) == "kubernetes":
            return container.image.id
    images = sorted(
        client.images.list(filters={"label": f"{LABEL}=kubernetes"}), key=lambda image: image.attrs["Created"]
    )
    if not images:
        raise SingleK8sError(
            f"cannot clean up cluster {cluster_id}: no pytest-single-k8s kubernetes image is left on "
            "this engine to run the clean-up with; build one: `pytest-single-k8s images`"
        )
    return images[-1].id


def delete(
    client: docker.DockerClient, cluster_id: str, labels: dict[str, str], holding: str = "", image: str = ""
) -> None:
    """Delete one cluster found on the engine, with the labels of one of its containers; the
    host-wide clean-up only while `holding` (default: the cluster itself) holds the engine. `image`:
    the kubernetes image to clean up with, where the caller has found it already."""
    image = image or helper_image(client, cluster_id)
    teardown.execute(client, cluster_id, labels.get(DIRECTORY_LABEL, ""), image, labels, holding)
    credentials.forget(cluster_id)  # a kept cluster's saved kubeconfig, where this process saved it
