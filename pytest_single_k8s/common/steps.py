"""Running independent steps at once, and running every step of a clean-up even if one fails."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Iterable
from typing import Any


def parallel(steps: Iterable[Callable[[], Any]], cancel: threading.Event | None = None) -> list[Any]:
    """Run steps at once; once every step has ended, re-raise the first failure, or return
    what each returned, in order.

    `cancel` is set as soon as one step fails or the caller is interrupted
    (Ctrl-C), so that steps which watch it (waits) end at once. Started steps are
    still let finish: what they create must exist before the clean-up that
    follows looks for it.
    """
    steps = list(steps)
    if not steps:
        return []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(steps))
    try:
        futures = [pool.submit(step) for step in steps]
        done, _ = concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_EXCEPTION)
        first_failed = [future for future in futures if future in done and future.exception()]
        if cancel is not None and first_failed:
            cancel.set()
        concurrent.futures.wait(futures)
    except BaseException:
        if cancel is not None:
            cancel.set()
        raise
    finally:
        pool.shutdown(wait=True)
    for future in first_failed:  # the failure that cancelled the rest is the one to report
        future.result()
    return [future.result() for future in futures]


def all_of(groups: Iterable[Iterable[Callable[[], object]]]) -> None:
    """Run groups of steps in order, each group in parallel, all of them even if some fail;
    then raise the first failure, mentioning how many there were."""
    errors: list[Exception] = []
    for group in groups:
        try:
            parallel(group)
        except Exception as error:  # noqa: BLE001 - collected, re-raised below
            errors.append(error)
    if errors:
        if len(errors) > 1:
            errors[0].add_note(f"and {len(errors) - 1} more clean-up step(s) failed: {errors[1:]}")
        raise errors[0]
