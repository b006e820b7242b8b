import pytest

from pytest_single_k8s.build import gobuild, goproxy

KUBERNETES_GO_MOD = """module k8s.io/kubernetes

go 1.26.0

require (
	github.com/spf13/cobra v1.10.2
	k8s.io/api v0.0.0
	k8s.io/client-go v0.0.0 // indirect
)

require k8s.io/kubelet v0.0.0

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
)
"""

CRI_DOCKERD_GO_MOD = """module github.com/Mirantis/cri-dockerd

go 1.25.0

replace (
	go.opentelemetry.io/otel/exporters/otlp/otlptrace => go.opentelemetry.io/otel/exporters/otlp/otlptrace v1.17.0
	k8s.io/api => k8s.io/api v0.29.15 // pinned
	k8s.io/local => ../local
)

replace k8s.io/kubernetes => k8s.io/kubernetes v1.29.15
"""


def test_escape_follows_the_proxy_case_encoding():
    assert goproxy.escape("github.com/Mirantis/cri-dockerd") == "github.com/!mirantis/cri-dockerd"
    assert goproxy.escape("k8s.io/kubernetes") == "k8s.io/kubernetes"


def test_proxy_url_takes_the_first_http_entry(monkeypatch):
    monkeypatch.setenv("GOPROXY", "off|https://mirror.example/go/,direct")
    assert goproxy.proxy_url() == "https://mirror.example/go"
    monkeypatch.setenv("GOPROXY", "direct")
    assert goproxy.proxy_url() == goproxy.DEFAULT_PROXY


def test_go_mod_parsing():
    assert goproxy.go_directive(KUBERNETES_GO_MOD) == "1.26.0"
    assert goproxy.zero_version_requirements(KUBERNETES_GO_MOD) == ["k8s.io/api", "k8s.io/client-go", "k8s.io/kubelet"]
    assert goproxy.replace_block(KUBERNETES_GO_MOD) == []
    assert goproxy.replace_block(CRI_DOCKERD_GO_MOD) == [
        "go.opentelemetry.io/otel/exporters/otlp/otlptrace => go.opentelemetry.io/otel/exporters/otlp/otlptrace v1.17.0",  # noqa: E501
        "k8s.io/api => k8s.io/api v0.29.15",
        "k8s.io/kubernetes => k8s.io/kubernetes v1.29.15",
    ]


@pytest.fixture
def served_go_mods(monkeypatch):
    mods = {"k8s.io/kubernetes": KUBERNETES_GO_MOD, "github.com/Mirantis/cri-dockerd": CRI_DOCKERD_GO_MOD}
    monkeypatch.setattr(goproxy, "go_mod", lambda module, version: mods[module])


def test_kubernetes_wrapper_maps_staging_modules_and_stamps_the_version(served_go_mods, tmp_path):
    program = gobuild.kubernetes("v1.37.2", tmp_path / "main.go")
    assert program.go_mod() == (
        "module pytest-single-k8s/kube\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes v1.37.2\n\nreplace (\n"
        "\tk8s.io/api => k8s.io/api v0.37.2\n\tk8s.io/client-go => k8s.io/client-go v0.37.2\n"
        "\tk8s.io/kubelet => k8s.io/kubelet v0.37.2\n)\n"
    )
    assert "-X k8s.io/component-base/version.gitVersion=v1.37.2" in program.ldflags
    assert "-X k8s.io/client-go/pkg/version.gitMinor=37" in program.ldflags
    assert program.package() == "."


def test_cri_dockerd_wrapper_repeats_its_replace_block(served_go_mods):
    program = gobuild.cri_dockerd("v0.4.3")
    assert "\tk8s.io/kubernetes => k8s.io/kubernetes v1.29.15\n" in program.go_mod()
    assert "../local" not in program.go_mod()
    assert program.package() == "github.com/Mirantis/cri-dockerd"
    assert program.ldflags == ("-X github.com/Mirantis/cri-dockerd/cmd/version.Version=0.4.3",)


def test_a_program_without_dependencies_has_a_bare_go_mod(tmp_path):
    program = gobuild.GoProgram(name="pause", main_source=tmp_path / "main.go")
    assert program.go_mod() == "module pytest-single-k8s/pause\n\ngo 1.22\n"
    assert program.label("-") == "pause"
