"""Reads module metadata (version lists, go.mod files) from the Go module proxy."""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request

from ..errors import BuildError

DEFAULT_PROXY = "https://proxy.golang.org"


def proxy_url() -> str:
    """The first HTTP(S) entry of $GOPROXY, as the go command would try it."""
    for entry in re.split(r"[,|]", os.environ.get("GOPROXY", DEFAULT_PROXY)):
        if entry.startswith(("http://", "https://")):
            return entry.rstrip("/")
    return DEFAULT_PROXY


def names_a_proxy() -> bool:
    """Whether $GOPROXY names an HTTP(S) proxy (not only `off` or `direct`); unset means the default one."""
    entries = re.split(r"[,|]", os.environ.get("GOPROXY", DEFAULT_PROXY))
    return any(entry.startswith(("http://", "https://")) for entry in entries)


def escape(module: str) -> str:
    """The proxy protocol's case encoding: an upper-case letter becomes '!' + lower case."""
    return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), module)


def fetch(module: str, suffix: str, timeout: float = 30.0) -> str:
    """GET <proxy>/<module>/@v/<suffix>, e.g. suffix 'list' or 'v1.37.2.mod'."""
    url = f"{proxy_url()}/{escape(module)}/@v/{suffix}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read().decode()
    except (urllib.error.URLError, OSError) as error:
        raise BuildError(f"failed to read {url}: {error}") from error


def go_mod(module: str, version: str) -> str:
    return fetch(module, f"{version}.mod")


def go_directive(go_mod_text: str) -> str:
    """The `go` line of a go.mod (the language version a wrapper must declare)."""
    found = re.search(r"^go\s+(\S+)\s*$", go_mod_text, re.MULTILINE)
    return found.group(1) if found else "1.22"


def replace_block(go_mod_text: str) -> list[str]:
    """Every replace directive of a go.mod that points at another module version.

    Directory replacements (`=> ./staging/...`) are left out: they only make
    sense inside that module's own source tree.
    """
    lines: list[str] = []
    in_block = False
    for raw in go_mod_text.splitlines():
        line = raw.split("//")[0].strip()
        if line == "replace (":
            in_block = True
            continue
        if in_block and line == ")":
            in_block = False
            continue
        body = line if in_block else line.removeprefix("replace ").strip() if line.startswith("replace ") else ""
        if "=>" in body and not body.split("=>")[1].strip().startswith("."):
            lines.append(body)
    return lines


def zero_version_requirements(go_mod_text: str) -> list[str]:
    """Modules a go.mod requires at v0.0.0: k8s.io/kubernetes's staging modules."""
    return re.findall(r"^\s*(?:require\s+)?(\S+)\s+v0\.0\.0\s*(?://.*)?$", go_mod_text, re.MULTILINE)
