import pytest

# The plugin's own tests drive pytest sessions in a sandbox with pytester.
pytest_plugins = ["pytester"]
ASYNCIO_LOOP_SCOPE = "asyncio_default_fixture_loop_scope"  # set in pyproject.toml for the async examples


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """pytest-asyncio (1.5 still) warns while its loop scope is unset, so pyproject.toml sets it; where
    pytest-asyncio is absent (the README's first command) pytest would warn of an unknown key instead:
    there the key is declared here, for nobody to read."""
    if not pluginmanager.hasplugin("asyncio"):
        parser.addini(ASYNCIO_LOOP_SCOPE, "pytest-asyncio's, which is not installed or not active: unused")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that start clusters of their own (in inner pytest sessions)
    before any test that uses the session's cluster: one engine runs one
    cluster at a time, and the session's cluster lives until the end."""
    items.sort(key=lambda item: item.get_closest_marker("own_cluster") is None)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("own_cluster") and hasattr(item.config, "workerinput"):
        pytest.skip("starts clusters of its own: run without -n, as one engine runs one cluster at a time")
