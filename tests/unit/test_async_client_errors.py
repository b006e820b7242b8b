"""k8s_async_client says what is missing before any cluster starts: kubernetes_asyncio, or a plugin to run
the test's event loop (checked in real pytest sessions; the client itself: tests/example/test_async_client.py)."""

ASKS_FOR_IT = """
def test_asks(k8s_async_client):
    pass
"""


def test_without_kubernetes_asyncio_it_names_the_extra(pytester):
    pytester.makeconftest("import sys\nsys.modules['kubernetes_asyncio'] = None  # as if not installed\n")
    pytester.makepyfile(ASKS_FOR_IT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*k8s_async_client needs kubernetes_asyncio: pip install 'pytest-single-k8s?asyncio?'*"]
    )


def test_without_an_async_plugin_for_the_test_it_says_how_to_mark_it(pytester):
    pytester.makepyfile(ASKS_FOR_IT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*test_asks is not run by anyio (no anyio_backend) and pytest-asyncio is not active: mark the test*"]
    )
