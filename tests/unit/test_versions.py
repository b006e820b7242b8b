import json

import pytest

from pytest_single_k8s.build import goproxy, versions
from pytest_single_k8s.cluster import by_minor
from pytest_single_k8s.errors import BuildError, VersionError

SERVED = [(1, 34, 4), (1, 35, 0), (1, 35, 4), (1, 36, 1), (1, 36, 3), (1, 37, 0), (1, 37, 2)]


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        (None, "v1.37.2"),
        ("latest", "v1.37.2"),
        ("1.37.2", "v1.37.2"),
        ("v1.36.1", "v1.36.1"),
        ("1.36", "v1.36.3"),
        ("v1.35", "v1.35.4"),
    ],
)
def test_resolve_accepts_releases_minors_and_latest(requested, expected):
    assert versions.resolve(requested, SERVED) == expected


@pytest.mark.parametrize("requested", ["banana", "1", "1.37.2.1", "v1.37.2-rc.0", "1.37.x"])
def test_resolve_rejects_malformed_versions_with_an_example(requested):
    with pytest.raises(VersionError, match="malformed Kubernetes version .* such as 'v1.37.2'"):
        versions.resolve(requested, SERVED)


def test_resolve_rejects_versions_below_the_minimum_and_lists_supported_ones():
    with pytest.raises(
        VersionError,
        match=r"needs 1\.34 or later; supported releases \(the Go module proxy's\): "
        r"v1.37.2, v1.36.3, v1.35.4, v1.34.4$",
    ):
        versions.resolve("1.33.9", SERVED)


def test_resolve_names_the_nearest_served_versions():
    with pytest.raises(
        VersionError, match=r"1.37.9 is not served .* nearest valid versions: v1.37.2, v1.37.0, v1.36.3$"
    ):
        versions.resolve("1.37.9", SERVED)
    with pytest.raises(VersionError, match=r"1.39 is not served .* nearest valid versions: v1.37.2, v1.37.0"):
        versions.resolve("1.39", SERVED)


def test_parse_release_ignores_pre_releases():
    assert versions.parse_release("v1.37.2") == (1, 37, 2)
    assert versions.parse_release("v1.38.0-alpha.1") is None


def test_served_releases_are_cached_for_a_day_and_serve_offline(tmp_path, monkeypatch):
    calls = []

    def fetch(module, suffix, timeout):
        calls.append((module, suffix))
        return "v1.36.0\nv1.37.0-rc.1\nv1.37.1\nv1.35.2\n"

    monkeypatch.setattr(goproxy, "fetch", fetch)
    assert versions.served_releases(tmp_path, now=1000.0) == [(1, 35, 2), (1, 36, 0), (1, 37, 1)]
    assert versions.served_releases(tmp_path, now=1000.0 + 3600) == [(1, 35, 2), (1, 36, 0), (1, 37, 1)]
    assert calls == [("k8s.io/kubernetes", "list")]

    def offline(module, suffix, timeout):
        raise BuildError("failed to read the list: network unreachable")

    monkeypatch.setattr(goproxy, "fetch", offline)
    assert versions.served_releases(tmp_path, now=1000.0 + 2 * 86400) == [(1, 35, 2), (1, 36, 0), (1, 37, 1)]
    assert json.loads((tmp_path / "kubernetes-versions.json").read_text())["fetched"] == 1000.0


def test_served_releases_without_cache_or_network_raise(tmp_path, monkeypatch):
    def offline(module, suffix, timeout):
        raise BuildError("failed to read the list: network unreachable")

    monkeypatch.setattr(goproxy, "fetch", offline)
    with pytest.raises(BuildError, match="network unreachable"):
        versions.served_releases(tmp_path)


def test_the_feature_gates_follow_the_minor():
    assert by_minor.feature_gates(34) == by_minor.feature_gates(35) == {}
    assert by_minor.feature_gates(36) == by_minor.feature_gates(37) == {"ExtendWebSocketsToKubelet": False}
