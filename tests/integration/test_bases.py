"""--k8s-base-image: the debian image built on a base pulled from a registry run here."""

import pytest

from pytest_single_k8s.engine.labels import LABEL, PULLED_LABEL

from . import registry
from .sessions import EXAMPLE, TEST_FUNCTION, images_command, inner

pytestmark = pytest.mark.own_cluster  # its inner sessions start clusters: before the session's own


@pytest.fixture
def base_in_a_registry(k8s_images, tmp_path):
    """Our debian image, pushed as <registry>/debian:bookworm-slim and gone from the engine: a pull must fetch it.
    Afterwards every image built on it, the pulled base and the registry are removed."""
    client = k8s_images.client
    binary = registry.build(tmp_path / "bin")
    with registry.running(binary, tmp_path) as address:
        repository = f"{address}/debian"
        base = f"{repository}:bookworm-slim"
        registry.publish(client, k8s_images.ref("debian"), base)
        before = {tag for image in client.images.list(filters={"label": LABEL}) for tag in image.tags}
        try:
            yield base
        finally:
            for image in client.images.list(filters={"label": LABEL}):
                for tag in set(image.tags) - before:
                    client.images.remove(tag, force=True)
            if client.images.list(name=repository):
                client.images.remove(base, force=True)


def test_a_base_image_from_a_registry_builds_images_that_serve_the_example(
    base_in_a_registry, k8s_images, pytester, clean_host, tmp_path
):
    base, version = base_in_a_registry, k8s_images.versions.kubernetes
    built = images_command("--k8s-version", version, "--k8s-base-image", base)
    assert built.returncode == 0, built.stderr
    assert f"Pulling {base}" in built.stderr
    listing = {line.split()[0].rsplit("/", 1)[1].split(":")[0]: line for line in built.stdout.splitlines()}
    assert listing["debian"].endswith(f"on {base}")
    assert listing["nginx"].endswith(f"on {base}")  # built FROM that debian: its chain starts there
    assert k8s_images.ref("debian") not in listing["debian"]  # a tag of its own: not the rootfs image
    debian = k8s_images.client.images.get(listing["debian"].split()[0])
    assert debian.labels[PULLED_LABEL] == base

    example = EXAMPLE / "test_nginx.py"
    result = inner(pytester, str(example), "--k8s-version", version, "--k8s-base-image", base)
    result.assert_outcomes(passed=len(TEST_FUNCTION.findall(example.read_text())))
    assert "Building" not in result.stdout.str() + result.stderr.str()


def test_a_base_image_no_registry_has_is_named(k8s_images, tmp_path):
    missing = "127.0.0.1:9/no-such/debian:bookworm-slim"  # port 9 (discard): nothing listens
    result = images_command("--k8s-base-image", missing, cache=tmp_path / "cache")
    assert result.returncode == 1
    assert f"failed to pull {missing}" in result.stderr
