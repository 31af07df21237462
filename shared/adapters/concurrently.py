"""Independent storage calls made several at a time, in the caller's context."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def each(call: Callable[[T], object], items: Iterable[T], *, at_once: int, name: str) -> None:
    """`call(item)` for every item, at most `at_once` at a time, each in a copy of the caller's context (its
    requests belong to the caller's trace and to whatever counts them). After a failure no further item starts,
    as when they run one after another: the first failure is raised once the calls under way have ended. Each
    call is idempotent, so a redelivery does what was left."""
    todo = list(items)
    if len(todo) <= 1 or at_once <= 1:
        for item in todo:
            call(item)
        return
    from concurrent.futures import ThreadPoolExecutor  # only a release-wide move of several shards gets here

    failed = threading.Event()

    def guarded(item: T) -> None:
        if failed.is_set():
            return
        try:
            call(item)
        except BaseException:
            failed.set()
            raise

    with ThreadPoolExecutor(max_workers=min(at_once, len(todo)), thread_name_prefix=name) as pool:
        done = [pool.submit(contextvars.copy_context().run, guarded, item) for item in todo]
    for future in done:
        future.result()
