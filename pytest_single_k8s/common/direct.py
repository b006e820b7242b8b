"""Connections to our cluster go direct, never through a proxy from the environment.

HTTP(S)_PROXY is for the internet. Our cluster answers on this host, at 127.0.0.1 and at
addresses on Docker's bridges (172.17.x.x), where a proxy cannot reach it; and NO_PROXY,
as Python's clients read it, cannot name a network such as 172.17.0.0/16. So the checks
open URLs with `opener()`, and the kubernetes clients of our cluster use no proxy
(cluster/handle.py, plugin/asynchronous.py). Downloads (build/) go to the internet and
keep the proxy; so does the client of a --k8s-kubeconfig cluster not ours, as kubectl's would.
"""

from __future__ import annotations

import ssl
import urllib.request


def opener(context: ssl.SSLContext | None = None) -> urllib.request.OpenerDirector:
    """A urllib opener that ignores the environment's proxies; `context` verifies HTTPS servers."""
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers)
