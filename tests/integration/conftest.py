import uuid

import pytest

from pytest_single_k8s import leftovers

TEST_LABEL = "io.github.pytest-single-k8s.test"


@pytest.fixture
def run_container(k8s_images):
    """Start a labelled container from the client; every one is removed afterwards."""
    client = k8s_images.client
    started = []

    def run(image, command=None, **kwargs):
        labels = {TEST_LABEL: kwargs.pop("name_hint", "test"), **kwargs.pop("labels", {})}
        container = client.containers.run(
            image, command, detach=True, labels=labels, name=f"psk8s-test-{uuid.uuid4().hex[:8]}", **kwargs
        )
        started.append(container)
        return container

    yield run
    for container in started:
        container.remove(force=True)


@pytest.fixture
def clean_host(k8s_images):
    """Asserts the host is clean before and after the test; returns a function that lists what is left."""
    image = k8s_images.ref("kubernetes")
    assert leftovers.find(k8s_images.client, image) == [], "the host was not clean before the test"
    yield lambda: leftovers.find(k8s_images.client, image)
    assert leftovers.find(k8s_images.client, image) == []
