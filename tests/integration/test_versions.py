"""The oldest supported Kubernetes minor passes the example (the newest runs every other test: the session's
`latest`). Every supported minor, with a table: `python -m tests.versions`."""

import pytest

from tests.versions.__main__ import run, supported_minors

pytestmark = pytest.mark.own_cluster  # its inner session starts a cluster: before the session's own


def test_the_oldest_supported_minor_passes_the_example():
    oldest = supported_minors()[0]
    row = run(oldest)
    assert row.passed, f"Kubernetes {row.release}: {row.summary}"
