"""--k8s-base-image auto's order: cached from a pull, cached from a build here, a pull, a build here."""

import io

import docker.errors
import pytest

from pytest_single_k8s.build import bases
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.errors import BuildError


class Registry:
    """Stands in for the engine's image store: what a registry serves, and what was asked of it."""

    def __init__(self, serves):
        self.serves, self.pulls = set(serves), []
        self.images = self

    def get(self, reference):
        raise docker.errors.ImageNotFound(reference)

    def pull(self, reference):
        self.pulls.append(reference)
        if reference not in self.serves:
            raise docker.errors.APIError("not found", explanation=f"pull access denied for {reference}")


def choose(setting, serves=(), cached=()):
    """cached: (recipe name, its base or None) pairs that are built."""
    engine, said = Registry(serves), io.StringIO()
    chosen = bases.choose(setting, engine, lambda b, name: (name, b.origin(name)) in cached, Status(said))
    return dict(chosen.pulled), engine.pulls, said.getvalue()


def test_where_the_registry_serves_both_both_are_pulled():
    pulled, pulls, _ = choose("auto", serves={bases.DEBIAN, bases.NGINX})
    assert pulled == {"debian": bases.DEBIAN, "nginx": bases.NGINX}
    assert pulls == [bases.DEBIAN, bases.NGINX]


def test_where_no_registry_answers_both_are_built_here_and_it_says_why():
    pulled, _, said = choose("auto")
    assert pulled == {}
    assert f"debian: building it here: failed to pull {bases.DEBIAN}: pull access denied" in said
    assert "nginx: building it here" in said


@pytest.mark.parametrize("serves", [(), (bases.DEBIAN, bases.NGINX)])
def test_cached_images_win_and_ask_no_registry(serves):
    built_here = {("debian", None), ("nginx", None)}
    assert choose("auto", serves, cached=built_here)[:2] == ({}, [])
    from_registry = {("debian", bases.DEBIAN), ("nginx", bases.NGINX)}
    assert choose("auto", serves, cached=from_registry)[:2] == ({"debian": bases.DEBIAN, "nginx": bases.NGINX}, [])


def test_a_given_base_is_pulled_unless_built_and_mmdebstrap_pulls_nothing():
    given = "mirror.example:5000/debian:bookworm-slim"
    assert choose(given, serves={given})[:2] == ({"debian": given}, [given])
    assert choose(given, cached={("debian", given)})[:2] == ({"debian": given}, [])
    with pytest.raises(BuildError, match=f"failed to pull {given}"):
        choose(given)
    assert choose("mmdebstrap", serves={bases.DEBIAN})[:2] == ({}, [])
    pinned = "debian@sha256:" + "ab" * 32  # a digest reference goes to the engine whole
    assert choose(pinned, serves={pinned})[:2] == ({"debian": pinned}, [pinned])
