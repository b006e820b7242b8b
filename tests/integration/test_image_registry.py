"""The image set in a registry (a distribution registry run here): `images --push PREFIX` publishes it, and
`--k8s-images-from PREFIX` pulls what the engine lacks by its content tags instead of building it. (On an empty
engine: the dind cell pulls the whole set this way, tests/hosts/engines.py.)"""

import json
import urllib.request

import pytest

from pytest_single_k8s.build.recipes import NAMES

from . import registry
from .sessions import EXAMPLE, TEST_FUNCTION, images_command, inner
from .test_cli_and_kubeconfig import cli

pytestmark = pytest.mark.own_cluster  # it removes images a cluster would run: before the session's own


@pytest.fixture
def address(tmp_path):
    """A registry of its own, empty."""
    with registry.running(registry.build(tmp_path / "bin"), tmp_path) as address:
        yield address


@pytest.fixture
def lose_nothing(k8s_images):
    """Whatever a test removed of the set and did not get back is built again, for the tests after it."""
    yield
    k8s_images.ensure()


def test_a_pushed_set_is_pulled_back_instead_of_built_and_serves_the_example(
    address, k8s_images, lose_nothing, pytester
):
    client, version, prefix = k8s_images.client, k8s_images.versions.kubernetes, f"{address}/psk8s"
    refs = {name: k8s_images.ref(name) for name in NAMES}
    pushed = cli("images", "--push", prefix, "--k8s-version", version)
    assert f"pushed {len(refs)} images to {prefix}" in pushed.stderr
    with urllib.request.urlopen(f"http://{address}/v2/_catalog", timeout=10) as response:
        assert sorted(json.load(response)["repositories"]) == sorted(f"psk8s/{name}" for name in NAMES)
    assert not [tag for image in client.images.list() for tag in image.tags if tag.startswith(address)]

    ids = {name: client.images.get(ref).id for name, ref in refs.items()}
    for ref in refs.values():
        client.images.remove(ref)
    example = EXAMPLE / "test_nginx.py"
    result = inner(pytester, str(example), "--k8s-version", version, "--k8s-images-from", prefix)
    result.assert_outcomes(passed=len(TEST_FUNCTION.findall(example.read_text())))
    said = result.stdout.str() + result.stderr.str()
    for name, ref in refs.items():
        assert f"Pulling {prefix}/{name}:{ref.rsplit(':', 1)[1]}" in said
    assert "Building" not in said
    assert {name: client.images.get(ref).id for name, ref in refs.items()} == ids  # the very images pushed
    assert not [tag for image in client.images.list() for tag in image.tags if tag.startswith(address)]


def test_an_image_the_registry_lacks_is_built_and_said_so(address, k8s_images, lose_nothing):
    pause, prefix = k8s_images.ref("pause"), f"{address}/psk8s"
    k8s_images.client.images.remove(pause)
    built = images_command("--k8s-version", k8s_images.versions.kubernetes, "--k8s-images-from", prefix)
    assert built.returncode == 0, built.stderr
    assert f"{prefix}/pause:{pause.rsplit(':', 1)[1]}: not pulled (" in built.stderr
    assert "): building it here" in built.stderr
    assert "Building" in built.stderr
    k8s_images.client.images.get(pause)
