from pytest_single_k8s.build.registry import remote

OURS = "localhost/pytest-single-k8s/coredns:ec248606e2ec543c"


def test_an_image_of_ours_lives_under_the_prefix_by_its_name_and_content_tag():
    assert remote("registry.example:5000/ci/psk8s", OURS) == ("registry.example:5000/ci/psk8s/coredns", OURS[-16:])
    assert remote("registry.example:5000/psk8s/", OURS) == ("registry.example:5000/psk8s/coredns", OURS[-16:])
