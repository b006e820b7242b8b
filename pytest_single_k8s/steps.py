"""Running independent steps at once, and running every step of a clean-up even if one fails."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable


def parallel(steps: Iterable[Callable[[], object]]) -> None:
    """Run steps at once; re-raise the first failure once every step has ended.

    Even when interrupted (Ctrl-C), started steps are let finish first: what they
    create must exist before the clean-up that follows looks for it.
    """
    steps = list(steps)
    if not steps:
        return
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(steps))
    try:
        futures = [pool.submit(step) for step in steps]
        concurrent.futures.wait(futures)
    finally:
        pool.shutdown(wait=True)
    for future in futures:
        future.result()


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
