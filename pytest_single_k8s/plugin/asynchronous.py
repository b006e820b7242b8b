"""k8s_async_client: a kubernetes_asyncio ApiClient for async tests (the `asyncio` extra).

Its connection pool belongs to the event loop of the test, so the fixture is
async, and the plugin that runs the test must run it: anyio's (a test that uses
`anyio_backend`, e.g. marked `anyio`) or pytest-asyncio's (any other). The two
plugins take async fixtures on different terms (anyio: any, for its own tests;
pytest-asyncio in its default strict mode: only its own decorated ones), so
there is one fixture for each and the public one picks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from ..cluster.external import ExternalCluster
from ..cluster.handle import Cluster
from ..errors import SingleK8sError

try:
    import pytest_asyncio
except ImportError:  # anyio's plugin alone runs async tests then
    pytest_asyncio = None  # type: ignore[assignment]

ANYIO, ASYNCIO = "_k8s_async_client_anyio", "_k8s_async_client_asyncio"


@pytest.fixture
def k8s_async_client(request: pytest.FixtureRequest) -> Any:
    """A `kubernetes_asyncio` ApiClient with admin rights on the session's cluster, for async tests
    run by anyio or pytest-asyncio; closed after the test. Needs `pip install 'pytest-single-k8s[asyncio]'`."""
    try:
        import kubernetes_asyncio  # noqa: F401
    except ImportError:
        raise SingleK8sError(
            "k8s_async_client needs kubernetes_asyncio: pip install 'pytest-single-k8s[asyncio]'"
        ) from None
    if "anyio_backend" in request.fixturenames:
        return request.getfixturevalue(ANYIO)
    if pytest_asyncio is None or not request.config.pluginmanager.hasplugin("asyncio"):
        raise SingleK8sError(
            f"k8s_async_client: {request.node.name} is not run by anyio (no anyio_backend) and pytest-asyncio "
            "is not active: mark the test `@pytest.mark.anyio`, or install pytest-asyncio and mark it "
            "`@pytest.mark.asyncio`"
        )
    return request.getfixturevalue(ASYNCIO)


async def _api_client(cluster: Cluster | ExternalCluster) -> AsyncIterator[Any]:
    from kubernetes_asyncio import client, config

    configuration = client.Configuration()
    context = cluster.context if isinstance(cluster, ExternalCluster) else None
    await config.load_kube_config(str(cluster.kubeconfig), context=context, client_configuration=configuration)
    async with client.ApiClient(configuration) as api:
        if isinstance(cluster, Cluster):
            # Ours is reached directly (common/direct.py): aiohttp's session takes proxies from the environment
            # (trust_env, set by kubernetes_asyncio) and has no public switch for it.
            api.rest_client.pool_manager._trust_env = False
        yield api


@pytest.fixture(name=ANYIO)
async def _anyio_client(k8s_cluster: Cluster | ExternalCluster) -> AsyncIterator[Any]:
    async for api in _api_client(k8s_cluster):
        yield api


if pytest_asyncio is not None:

    @pytest_asyncio.fixture(name=ASYNCIO)
    async def _asyncio_client(k8s_cluster: Cluster | ExternalCluster) -> AsyncIterator[Any]:
        async for api in _api_client(k8s_cluster):
            yield api
