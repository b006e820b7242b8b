import uuid

import pytest

TEST_LABEL = "io.github.pytest-single-k8s.test"


@pytest.fixture
def run_container(k8s_images):
    """Start a labelled container from the client; every one is removed afterwards."""
    client = k8s_images.client
    started = []

    def run(image, command=None, **kwargs):
        labels = {TEST_LABEL: kwargs.pop("name_hint", "test")}
        container = client.containers.run(
            image, command, detach=True, labels=labels, name=f"psk8s-test-{uuid.uuid4().hex[:8]}", **kwargs
        )
        started.append(container)
        return container

    yield run
    for container in started:
        container.remove(force=True)
