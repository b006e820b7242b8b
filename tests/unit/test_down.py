"""Whose clusters `down` deletes, chosen from their labels, and what it and a session say of another
user's cluster (no engine)."""

import os

import pytest

from pytest_single_k8s.cli import main
from pytest_single_k8s.cluster import kept, reaping
from pytest_single_k8s.engine import ownership
from pytest_single_k8s.engine.labels import KEPT_LABEL, OWNER_LABEL, USER_LABEL

NOBODY = 65534  # another user, as on Debian
FOUND = {
    "mine": {USER_LABEL: ownership.user(), OWNER_LABEL: "h:1:2"},
    "theirs": {USER_LABEL: str(NOBODY), OWNER_LABEL: "h:3:4", KEPT_LABEL: "f00d"},
    "older": {OWNER_LABEL: "h:5:6"},  # made before clusters recorded their user
}


def test_down_picks_this_users_clusters_and_with_all_every_one():
    assert tuple(map(list, reaping.for_down(FOUND, everyone=False))) == (["mine"], ["theirs", "older"])
    assert tuple(map(list, reaping.for_down(FOUND, everyone=True))) == (["mine", "theirs", "older"], [])


def test_down_names_the_clusters_it_leaves_and_how_to_delete_them():
    said = main._down_report({"mine": FOUND["mine"]}, {k: FOUND[k] for k in ("theirs", "older")}, everyone=False)
    nobody = ownership.user_name(NOBODY)
    assert said.splitlines() == [
        "deleted 1 cluster(s): mine",
        f"left 2 cluster(s) of other users: theirs (user {nobody}, kept), "
        "older (user not recorded (older pytest-single-k8s), owner h:5:6); "
        "`pytest-single-k8s down --all` deletes them, their sessions' too",
    ]


def test_down_all_says_whose_each_was():
    said = main._down_report(FOUND, {}, everyone=True)
    me = ownership.user_name(os.getuid())
    assert said == (
        f"deleted 3 cluster(s): mine (user {me}, owner h:1:2), theirs (user {ownership.user_name(NOBODY)}, kept), "
        "older (user not recorded (older pytest-single-k8s), owner h:5:6)"
    )


@pytest.mark.parametrize(("arguments", "everyone"), [(["down"], False), (["down", "--all"], True)])
def test_down_asks_for_all_only_with_all(monkeypatch, capsys, arguments, everyone):
    asked = []

    def down(client, status, all_users):
        asked.append(all_users)
        return {}, {}

    monkeypatch.setattr(main, "connect", lambda: None)
    monkeypatch.setattr(reaping, "down", down)
    assert main.main(arguments) == 0
    assert asked == [everyone]
    assert capsys.readouterr().out == "no cluster on this engine\n"


def test_another_users_kept_cluster_is_said_to_be_theirs():
    labels = {USER_LABEL: str(NOBODY), OWNER_LABEL: "h:1"}
    assert kept.not_yours("abcd1234", labels) == (
        f"the kept cluster abcd1234 is user {ownership.user_name(NOBODY)}'s: you can neither attach to it nor "
        "delete it, and one Docker engine runs one cluster at a time. Ask them to delete it (`pytest-single-k8s "
        "down`), or delete it yourself with `pytest-single-k8s down --all`"
    )
