"""Async tests, to copy: k8s_async_client is a kubernetes_asyncio ApiClient on the session's cluster,
for a test run by anyio's plugin (`@pytest.mark.anyio`) or by pytest-asyncio (`@pytest.mark.asyncio`).
Needs `pip install 'pytest-single-k8s[asyncio]'`."""

import asyncio

import pytest

pytest.importorskip("kubernetes_asyncio", reason="the async examples need pytest-single-k8s[asyncio]")
anyio = pytest.importorskip("anyio", reason="the anyio example needs anyio")
from kubernetes_asyncio import client, watch  # noqa: E402 - after the skip


@pytest.fixture
def anyio_backend():
    return "asyncio"  # anyio's plugin would run each anyio test on trio too


@pytest.mark.anyio
@pytest.mark.k8s
async def test_a_watch_sees_config_maps_made_at_once(k8s_async_client, k8s_namespace):
    core = client.CoreV1Api(k8s_async_client)
    names = {f"settings-{index}" for index in range(3)}
    async with anyio.create_task_group() as group:
        for name in names:
            group.start_soon(core.create_namespaced_config_map, k8s_namespace, {"metadata": {"name": name}})
    seen = set()
    with anyio.fail_after(30):
        async with watch.Watch().stream(core.list_namespaced_config_map, k8s_namespace) as events:
            async for event in events:
                seen.add(event["object"].metadata.name)
                if seen >= names:
                    break
    assert seen >= names


@pytest.mark.asyncio
@pytest.mark.k8s
async def test_requests_in_parallel_on_one_client(k8s_async_client):
    core, version = client.CoreV1Api(k8s_async_client), client.VersionApi(k8s_async_client)
    nodes, namespaces, served = await asyncio.gather(core.list_node(), core.list_namespace(), version.get_code())
    (node,) = nodes.items
    assert {condition.type: condition.status for condition in node.status.conditions}["Ready"] == "True"
    assert "kube-system" in {namespace.metadata.name for namespace in namespaces.items}
    assert served.git_version.startswith("v1.")
