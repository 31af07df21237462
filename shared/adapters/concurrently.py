"""Independent storage calls made several at a time, in the caller's context."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("promote.storage")

# Azure serves a table partition about 2,000 entities a second before it answers 503 (ServerBusy; the
# scalability targets for Table storage). A release's rows share one partition, and a catch-up or a routing
# batch writes up to 100 entities: at most 20 of them start in a second.
PARTITION_ENTITIES_PER_SECOND = 2000
BATCH_ENTITIES = 100


def each(
    call: Callable[[T], object],
    items: Iterable[T],
    *,
    at_once: int,
    name: str,
    starts_per_second: float = PARTITION_ENTITIES_PER_SECOND / BATCH_ENTITIES,
) -> None:
    """`call(item)` for every item, at most `at_once` at a time and `starts_per_second` started in a second, each
    in a copy of the caller's context (its requests belong to the caller's trace and to whatever counts them).
    After a failure no further item starts, as when they run one after another: the earliest failure is raised
    once the calls under way have ended (any other is logged). Each call is idempotent, so a redelivery does what
    was left."""
    todo = list(items)
    if len(todo) <= 1 or at_once <= 1:
        for item in todo:
            call(item)
        return
    from concurrent.futures import ThreadPoolExecutor  # only a release-wide move of several shards gets here

    lock, failures = threading.Lock(), list[BaseException]()
    gap, next_start = 1.0 / starts_per_second, [time.monotonic()]

    def paced(item: T) -> None:
        with lock:
            if failures:
                return
            wait, next_start[0] = next_start[0] - time.monotonic(), max(next_start[0], time.monotonic()) + gap
        if wait > 0:
            time.sleep(wait)
            with lock:
                if failures:
                    return
        try:
            call(item)
        except BaseException as exc:
            with lock:
                failures.append(exc)

    with ThreadPoolExecutor(max_workers=min(at_once, len(todo)), thread_name_prefix=name) as pool:
        for item in todo:
            pool.submit(contextvars.copy_context().run, paced, item)
    for other in failures[1:]:
        log.warning("%s: another call failed too: %s", name, other)
    if failures:
        raise failures[0]
