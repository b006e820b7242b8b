"""The official pause, CoreDNS and local-path-provisioner images under `--k8s-base-image auto`, pulled instead of
built, here through a registry mirror (`--k8s-registry-mirror`). No registry here serves the official images: the
mirror is a registry of this test's own holding our builds under the official paths (our builds take the official
layout), and our builds are removed, so that only a pull can bring them back."""

from pathlib import Path

import pytest

from pytest_single_k8s.build import bases
from pytest_single_k8s.engine.labels import LABEL, PULLED_LABEL

from . import registry
from .sessions import EXAMPLE, TEST_FUNCTION, images_command, inner

pytestmark = pytest.mark.own_cluster  # it removes images a cluster would run: before the session's own

ADDONS = Path(__file__).with_name("test_addons.py")
ADDON_TESTS = (  # cluster DNS and the StorageClass, used as workloads use them
    "test_pods_resolve_cluster_names_and_reach_a_service_by_name",
    "test_a_claim_with_no_class_binds_keeps_data_between_pods_and_takes_it_along_when_deleted",
)


@pytest.fixture
def mirror(k8s_images, tmp_path):
    """A registry serving our pause, CoreDNS and provisioner under their official paths; our builds gone from the
    engine meanwhile. Afterwards what was pulled goes, and our builds are back (built again where need be)."""
    client, official = k8s_images.client, bases.official(k8s_images.versions)
    with registry.running(registry.build(tmp_path / "bin"), tmp_path) as address:
        try:
            for name in bases.AS_THEY_ARE:
                registry.publish(client, k8s_images.ref(name), bases.mirrored(official[name], address))
                client.images.remove(k8s_images.ref(name))  # a pull must fetch it
            yield address
        finally:
            for image in client.images.list():
                for tag in image.tags:  # what was pulled, and what was made of it
                    if tag.startswith(f"{address}/") or image.labels.get(PULLED_LABEL, "").startswith(address):
                        client.images.remove(tag, force=True)
            k8s_images.ensure()


def test_the_official_images_from_a_mirror_are_used_as_they_are_and_serve_dns_storage_and_the_example(
    mirror, k8s_images, pytester, clean_host
):
    version, official = k8s_images.versions.kubernetes, bases.official(k8s_images.versions)
    built = images_command("--k8s-version", version, "--k8s-registry-mirror", mirror)
    assert built.returncode == 0, built.stderr
    listing = {line.split()[0].rsplit("/", 1)[1].split(":")[0]: line for line in built.stdout.splitlines()}
    for name in bases.AS_THEY_ARE:
        pulled = bases.mirrored(official[name], mirror)
        assert f"Pulling {pulled}" in built.stderr
        assert listing[name].endswith(f"on {pulled}")
        image = k8s_images.client.images.get(listing[name].split()[0])
        assert image.labels[PULLED_LABEL] == pulled
        assert image.labels[LABEL] == name
    assert "from Go modules" not in built.stderr  # nothing of theirs compiled

    example = EXAMPLE / "test_nginx.py"
    tests = [str(example), *(f"{ADDONS}::{name}" for name in ADDON_TESTS)]
    result = inner(pytester, *tests, "--k8s-version", version, "--k8s-registry-mirror", mirror)
    result.assert_outcomes(passed=len(TEST_FUNCTION.findall(example.read_text())) + len(ADDON_TESTS))
    assert "Building" not in result.stdout.str() + result.stderr.str()
