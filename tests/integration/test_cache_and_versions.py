"""The command for humans: an unknown version is refused before any build; a second run builds nothing."""

from pytest_single_k8s.engine.labels import REPOSITORY

from .sessions import images_command


def image_ids(client):
    return sorted(image.id for image in client.images.list(all=True))


def test_second_build_is_a_cache_hit_that_builds_nothing(k8s_images):
    before = image_ids(k8s_images.client)
    result = images_command("--k8s-version", k8s_images.versions.kubernetes)
    assert result.returncode == 0, result.stderr
    assert "Building" not in result.stderr
    for ref in map(k8s_images.ref, ("debian", "pause", "etcd", "kubernetes", "nginx")):
        assert ref in result.stdout
    assert image_ids(k8s_images.client) == before


def test_unknown_version_is_refused_before_any_build(k8s_images):
    before = image_ids(k8s_images.client)
    result = images_command("--k8s-version", "1.37.99")
    assert result.returncode == 1
    assert "Kubernetes 1.37.99 is not served by the Go module proxy" in result.stderr
    assert "nearest valid versions: v1.37." in result.stderr
    assert "Building" not in result.stderr
    assert image_ids(k8s_images.client) == before


def test_malformed_version_is_refused_with_an_example(k8s_images):
    result = images_command("--k8s-version", "one-point-thirty-seven")
    assert result.returncode == 1
    assert "malformed Kubernetes version 'one-point-thirty-seven'" in result.stderr


def test_prune_removes_stale_tags_and_keeps_current_ones(k8s_images):
    client = k8s_images.client
    stale = f"{REPOSITORY}/pause:0000000000000000"
    client.images.get(k8s_images.ref("pause")).tag(stale)  # an older recipe's tag: same labels, other hash
    try:
        assert stale in k8s_images.stale()
        result = images_command("--k8s-version", k8s_images.versions.kubernetes, "--prune")
        assert result.returncode == 0, result.stderr
        assert f"removed {stale}" in result.stderr
        assert stale not in [tag for image in client.images.list() for tag in image.tags]
        assert k8s_images.missing() == []
    finally:
        if stale in [tag for image in client.images.list() for tag in image.tags]:
            client.images.remove(stale)
