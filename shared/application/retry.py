"""Read -> decide -> commit, again on a write conflict: the one retry loop of the application layer.

Every writer (a message, an invalid message recorded as rejected, a plan applied, a drift record) reads the
release, decides, and commits guarded by the rows' ETags. When another writer committed first, the attempt is
started over from a fresh read, a bounded number of times; then ConflictError propagates and the platform
redelivers the message later (the SDKs and the Functions host do the other retrying: we do not stack retries).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from shared.application.config import CONFLICT_JITTER_SECONDS, MAX_CONFLICTS
from shared.domain.errors import ConflictError

T = TypeVar("T")


def retry_on_conflict(
    attempt: Callable[[int], T], *, what: str, limit: int = MAX_CONFLICTS, pause: Callable[[float], None] = time.sleep
) -> T:
    """`attempt(n)` for n = 0, 1, ... until it returns without ConflictError; at most `limit` attempts.

    Between attempts a random pause of up to n x CONFLICT_JITTER_SECONDS: busy writers of one release collide
    less when they do not retry in lockstep.
    """
    for n in range(limit):
        try:
            return attempt(n)
        except ConflictError:
            if n + 1 < limit:
                pause(random.uniform(0, CONFLICT_JITTER_SECONDS * (n + 1)))
    raise ConflictError(f"{what}: gave up after {limit} write conflicts")
