"""The one retry mechanism: poll a check with tenacity until it passes, a deadline, or a cancel."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import tenacity

T = TypeVar("T")


class WaitTimeout(TimeoutError):
    """A wait ran out of time; the message names what was awaited and the last failure."""


class WaitCancelled(Exception):
    """A wait was cut short from outside (another wait failed, or Ctrl-C)."""


def wait_for(
    check: Callable[[], T],
    what: str,
    timeout: float,
    interval: float = 0.2,
    fatal: tuple[type[BaseException], ...] = (),
    retry_on: tuple[type[Exception], ...] = (Exception,),
    cancel: threading.Event | None = None,
) -> T:
    """Call `check` until it returns without raising; return its value.

    An exception from `check` of a `retry_on` type means "not yet", unless it is
    one of `fatal`; any other is raised at once. After `timeout` seconds a
    WaitTimeout says what was awaited and how the last attempt failed; once
    `cancel` is set, WaitCancelled ends the wait before its next attempt.
    """
    cancel = cancel or threading.Event()
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_delay(timeout) | tenacity.stop_when_event_set(cancel),
        wait=tenacity.wait_fixed(interval),
        sleep=lambda seconds: _pause(cancel, seconds),
        retry=tenacity.retry_if_exception(lambda error: isinstance(error, retry_on) and not isinstance(error, fatal)),
        reraise=False,
    )
    try:
        return retrying(check)
    except tenacity.RetryError as error:
        if cancel.is_set():
            raise WaitCancelled(f"stopped waiting for {what}") from None
        last = error.last_attempt.exception()
        raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what}: {last}") from last


def _pause(cancel: threading.Event, seconds: float) -> None:
    """The pause between attempts: a cancel wakes it at once."""
    cancel.wait(seconds)
