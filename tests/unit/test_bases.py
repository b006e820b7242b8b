"""--k8s-base-image auto's order: cached from a pull, cached from a build here, a pull, a build here; the
official images it pulls, and where a registry mirror serves them."""

import io

import docker.errors
import pytest

from pytest_single_k8s.build import bases
from pytest_single_k8s.build.recipes import Versions
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.errors import BuildError


class Registry:
    """Stands in for the engine's image store: what a registry serves, and what was asked of it."""

    def __init__(self, serves):
        self.serves, self.pulls = set(serves), []
        self.images = self.api = self

    def get(self, reference):
        raise docker.errors.ImageNotFound(reference)

    def pull(self, repository, tag, stream, decode):
        reference = f"{repository}{'@' if tag.startswith('sha256:') else ':'}{tag}"
        self.pulls.append(reference)
        if reference not in self.serves:
            raise docker.errors.APIError("not found", explanation=f"pull access denied for {reference}")
        return iter([{"status": "Downloading", "id": "layer", "progressDetail": {"current": 1, "total": 2}}])


VERSIONS = Versions(kubernetes="")
OFFICIAL = bases.official(VERSIONS)


def choose(setting, serves=(), cached=(), mirror=None):
    """cached: (recipe name, its base or None) pairs that are built."""
    engine, said = Registry(serves), io.StringIO()
    is_cached = lambda b, name: (name, b.origin(name)) in cached  # noqa: E731
    chosen = bases.choose(setting, engine, is_cached, Status(said), VERSIONS, mirror)
    return dict(chosen.pulled), engine.pulls, said.getvalue()


def test_the_official_images_are_debians_nginxs_and_the_addons_and_pauses_of_their_versions():
    assert OFFICIAL == {
        "debian": "debian:bookworm-slim",
        "pause": f"registry.k8s.io/pause:{VERSIONS.pause}",
        "nginx": "nginx:stable",
        "coredns": f"registry.k8s.io/coredns/coredns:{VERSIONS.coredns}",
        "local-path-provisioner": f"docker.io/rancher/local-path-provisioner:{VERSIONS.local_path_provisioner}",
    }


def test_where_the_registry_serves_them_all_are_pulled():
    pulled, pulls, _ = choose("auto", serves=set(OFFICIAL.values()))
    assert pulled == OFFICIAL
    assert pulls == list(OFFICIAL.values())


def test_where_no_registry_answers_all_are_built_here_and_it_says_why():
    pulled, _, said = choose("auto")
    assert pulled == {}
    assert f"debian: building it here: failed to pull {bases.DEBIAN}: pull access denied" in said
    for name in OFFICIAL:
        assert f"{name}: building it here" in said


def test_a_registry_mirror_serves_each_under_its_own_path():
    mirror = "127.0.0.1:5000/cache"
    pulled, pulls, _ = choose("auto", serves={bases.mirrored(ref, mirror) for ref in OFFICIAL.values()}, mirror=mirror)
    assert pulls == [
        "127.0.0.1:5000/cache/library/debian:bookworm-slim",
        f"127.0.0.1:5000/cache/pause:{VERSIONS.pause}",
        "127.0.0.1:5000/cache/library/nginx:stable",
        f"127.0.0.1:5000/cache/coredns/coredns:{VERSIONS.coredns}",
        f"127.0.0.1:5000/cache/rancher/local-path-provisioner:{VERSIONS.local_path_provisioner}",
    ]
    assert pulled == dict(zip(OFFICIAL, pulls, strict=True))
    assert bases.mirrored("localhost/x/y:1", "m:5000") == "m:5000/x/y:1"
    assert bases.mirrored("library/debian:13", "m:5000/") == "m:5000/library/debian:13"
    assert bases.mirrored("debian:13", None) == "debian:13"


@pytest.mark.parametrize("serves", [(), tuple(OFFICIAL.values())])
def test_cached_images_win_and_ask_no_registry(serves):
    built_here = {(name, None) for name in OFFICIAL}
    assert choose("auto", serves, cached=built_here)[:2] == ({}, [])
    from_registry = set(OFFICIAL.items())
    assert choose("auto", serves, cached=from_registry)[:2] == (OFFICIAL, [])


def test_a_given_base_is_pulled_unless_built_and_mmdebstrap_pulls_nothing():
    given = "mirror.example:5000/debian:bookworm-slim"
    assert choose(given, serves={given})[:2] == ({"debian": given}, [given])
    assert choose(given, cached={("debian", given)})[:2] == ({"debian": given}, [])
    with pytest.raises(BuildError, match=f"failed to pull {given}"):
        choose(given)
    assert choose("mmdebstrap", serves={bases.DEBIAN})[:2] == ({}, [])
    pinned = "debian@sha256:" + "ab" * 32  # a digest reference goes to the engine whole
    assert choose(pinned, serves={pinned})[:2] == ({"debian": pinned}, [pinned])
