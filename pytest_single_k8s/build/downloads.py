"""Files fetched over HTTP(S) and verified (against a SHA-256, or as the caller checks) before anyone uses them.

A file is written beside its destination as `<name>.part`, hashed while it
streams, and renamed only when its digest is the expected one: a mismatch or a
broken transfer leaves nothing behind. Transient failures (a reset connection,
a timeout, HTTP 5xx or 429) are retried; anything else is reported at once.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ..common.waiting import WaitTimeout, wait_for
from ..errors import BuildError

CHUNK = 1 << 20
READ_TIMEOUT = 30.0  # seconds without a byte before a transfer counts as broken
RETRY_FOR = 120.0  # seconds of retrying transient failures
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class Transient(Exception):
    """A failure worth another attempt."""


class NotFound(BuildError):
    """The server has no such file (HTTP 404)."""


def read_text(url: str, timeout: float = READ_TIMEOUT) -> str:
    """A small file (a checksum, a version); one attempt: callers decide what a failure means."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read(1 << 20).decode()
    except urllib.error.HTTPError as error:
        kind = NotFound if error.code == 404 else BuildError
        raise kind(f"failed to read {url}: {_reason(error)}") from error
    except (urllib.error.URLError, OSError, http.client.HTTPException, UnicodeDecodeError) as error:
        raise BuildError(f"failed to read {url}: {_reason(error)}") from error


def digest_in(text: str, url: str, name: str | None = None) -> str:
    """The SHA-256 a checksum file gives for `name` (or its only digest): `<hex>` or `<hex>  <name>` lines."""
    for line in text.splitlines():
        words = line.split()
        if words and _DIGEST.match(words[0].lower()) and (name is None or words[-1].lstrip("*") == name):
            return words[0].lower()
    raise BuildError(f"failed to read a SHA-256 {'for ' + name + ' ' if name else ''}in {url}")


def download(url: str, destination: Path, sha256: str, progress: Callable[[str], None] = lambda _: None) -> Path:
    """Fetch `url` to `destination`, verified by its SHA-256; retries transient failures for up to RETRY_FOR
    seconds."""

    def verify(partial: Path) -> None:
        actual = sha256_of(partial)
        if actual != sha256.lower():
            raise BuildError(
                f"refused {destination.name} from {url}: its SHA-256 is {actual}, expected {sha256.lower()}; "
                "the file was deleted. The mirror serves another file than its checksum names: fix the mirror "
                "or point the setting at another"
            )

    return fetch(url, destination, verify, progress)


def fetch(url: str, destination: Path, verify: Callable[[Path], None], progress: Callable[[str], None]) -> Path:
    """Fetch `url` to `destination` once `verify` (which raises BuildError) accepts the file as it came."""
    partial = destination.with_name(destination.name + ".part")
    try:
        wait_for(
            lambda: _attempt(url, partial, progress),
            f"{url}",
            timeout=RETRY_FOR,
            interval=2.0,
            retry_on=(Transient,),
        )
        verify(partial)
        partial.replace(destination)
        return destination
    except WaitTimeout as error:
        raise BuildError(f"failed to download {url}: {error.__cause__ or error}") from error
    finally:
        partial.unlink(missing_ok=True)


def _attempt(url: str, partial: Path, progress: Callable[[str], None]) -> None:
    with partial.open("wb") as out:  # a local error (a full disk) is no network failure: not retried
        try:
            response = urllib.request.urlopen(url, timeout=READ_TIMEOUT)
        except urllib.error.HTTPError as error:
            if error.code >= 500 or error.code == 429:
                raise Transient(_reason(error)) from error
            raise BuildError(f"failed to download {url}: {_reason(error)}") from error
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:  # refused, timed out
            raise Transient(_reason(error)) from error
        with response:
            total, done = int(response.headers.get("Content-Length") or 0), 0
            while chunk := _read(response):
                out.write(chunk)
                done += len(chunk)
                progress(f"{partial.stem}: {done / 1e6:.0f}" + (f" of {total / 1e6:.0f} MB" if total else " MB"))
        if total and done < total:  # the server closed early: read() ends without an error
            raise Transient(f"the transfer ended after {done} of {total} bytes")


def _read(response: http.client.HTTPResponse) -> bytes:
    try:
        return response.read(CHUNK)
    except (OSError, http.client.HTTPException) as error:  # a reset or a stall mid-transfer
        raise Transient(_reason(error)) from error


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _reason(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return str(error) or type(error).__name__
