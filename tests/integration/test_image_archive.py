"""The image set as one file (a CI runner's cache): `images --key`, `--save FILE`, `--load FILE`, against this
engine. (On an empty engine: the dind and VM cells load our images this way, tests/hosts/job.sh.)"""

import json
import tarfile

from pytest_single_k8s.build import archive
from pytest_single_k8s.build.recipes import NAMES
from pytest_single_k8s.common.progress import Status

from .test_cli_and_kubeconfig import cli


def test_the_set_saves_as_one_file_that_loads_back_under_its_key(k8s_images, tmp_path):
    version = ["--k8s-version", k8s_images.versions.kubernetes]
    refs = [k8s_images.ref(name) for name in NAMES]
    assert cli("images", "--key", *version).stdout.strip() == archive.key(refs)

    saved = cli("images", "--save", str(tmp_path / "set.tar"), *version)
    assert f"saved {len(refs)} images to {tmp_path / 'set.tar'}" in saved.stderr
    with tarfile.open(tmp_path / "set.tar") as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        manifest = json.load(member)
    assert sorted(tag for image in manifest for tag in image["RepoTags"]) == sorted(refs)
    assert not list(tmp_path.glob("*.partial"))

    loaded = cli("images", "--load", str(tmp_path / "set.tar"), *version)
    assert "Loading the images from" in loaded.stderr
    assert "lacks" not in loaded.stderr


def test_an_archive_that_lacks_images_of_the_set_is_named_with_them(k8s_images, tmp_path):
    archive.save(k8s_images.client, [k8s_images.ref("pause")], tmp_path / "old.tar", Status())
    loaded = cli("images", "--load", str(tmp_path / "old.tar"), "--k8s-version", k8s_images.versions.kubernetes)
    assert f"{tmp_path / 'old.tar'} lacks {len(NAMES) - 1} of the {len(NAMES)} images" in loaded.stderr
    assert k8s_images.ref("kubernetes") in loaded.stderr
    assert "this engine has them already" in loaded.stderr


def test_a_missing_archive_is_an_error_that_names_it(tmp_path):
    missing = tmp_path / "none.tar"
    failed = cli("images", "--load", str(missing), check=False)
    assert failed.returncode == 1
    assert failed.stderr.strip() == f"error: cannot load the images from {missing}: No such file or directory"
