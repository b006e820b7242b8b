"""Images.ensure waits for another session's build (a real file lock held by another process) and says
so, and only then; afterwards it finds the images that session built and builds nothing."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest

from pytest_single_k8s.build.images import Images
from pytest_single_k8s.build.recipes import NAMES, Versions
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.common.waiting import wait_for

WAITING = "Waiting for another session's build of the images (lock {}) ..."
HOLDER = """
import sys, filelock
lock = filelock.FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
sys.stdin.read()  # until the test closes it
"""


class Engine:
    """The engine as ensure() sees it: no image of ours at first, all of them once the build lock is ours
    (the other session built them meanwhile). It can build nothing: it has no build API."""

    def __init__(self) -> None:
        self.refs: list[str] = []
        self.listings = 0
        self.images = self

    def list(self, filters: dict[str, str]) -> list[SimpleNamespace]:
        self.listings += 1
        found = self.refs if self.listings > 1 else []
        return [SimpleNamespace(tags=[ref], labels={}, attrs={"Size": 1}) for ref in found]


def images_in(cache) -> tuple[Images, io.StringIO]:
    stream = io.StringIO()
    engine = Engine()
    images = Images(engine, Versions(kubernetes="v1.37.2"), Status(stream), cache=cache)
    engine.refs = [images.ref(name) for name in NAMES]
    return images, stream


@pytest.fixture
def held_lock(tmp_path):
    """The build lock, held by another process until the test lets it go (returned)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "build.lock")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    assert holder.stdin is not None
    yield holder.stdin.close
    holder.stdin.close()
    holder.wait(10)


def test_a_build_held_by_another_session_is_waited_for_and_said(tmp_path, held_lock):
    images, stream = images_in(tmp_path)
    refs: list[dict[str, str]] = []
    ensuring = threading.Thread(target=lambda: refs.append(images.ensure()), daemon=True)
    ensuring.start()
    waiting = WAITING.format(tmp_path / "build.lock")

    def said() -> None:
        assert waiting in stream.getvalue(), f"said: {stream.getvalue()!r}"

    wait_for(said, "the wait to be said", timeout=10, interval=0.05)
    assert ensuring.is_alive()  # still waiting for the other session

    held_lock()
    ensuring.join(10)
    assert not ensuring.is_alive()
    assert refs == [{name: images.ref(name) for name in NAMES}]  # found, not built
    assert f" ✓ {waiting.removesuffix(' ...')}" in stream.getvalue()


def test_a_free_lock_is_taken_without_a_word(tmp_path):
    images, stream = images_in(tmp_path)
    assert images.ensure() == {name: images.ref(name) for name in NAMES}
    assert stream.getvalue() == ""
