"""The image set's cache key: what the set is made of (its content-addressed tags), nothing else."""

from pytest_single_k8s.build import archive

REFS = ["localhost/pytest-single-k8s/pause:83f99cb227df3c31", "localhost/pytest-single-k8s/etcd:1f3b50cd10629ca8"]


def test_the_same_set_in_any_order_has_the_same_key():
    assert archive.key(REFS) == archive.key(list(reversed(REFS)))
    assert archive.key(REFS).startswith("pytest-single-k8s-images-")


def test_a_set_with_one_input_changed_has_another_key():
    changed = [REFS[0], REFS[1].replace("1f3b", "2f3b")]
    assert archive.key(changed) != archive.key(REFS)
    assert archive.key(REFS[:1]) != archive.key(REFS)
