"""The pace of CPython's cyclic garbage collector in a host of promote.

A release-level move of 5,000 workloads allocates about a million objects in a second (the release read whole,
its decision, the commit point's payload). With CPython's default pace (a young collection every 700 net
allocations, an older one every 10 of those, a full one every 10 older ones) the collector walks that heap
again and again: 0.27 s of the 1.27 s until the decision was visible at N = 5,000 (bench/scale.py). promote's
objects are freed by their reference counts; the collector is only there for cycles (an exception and its
frames), which can wait: young objects are collected every 50,000 allocations, older ones every 100 of those."""

from __future__ import annotations

import gc

YOUNG = 50_000  # net allocations between young collections (CPython: 700)
OLDER = 100  # young collections between collections of the older generations (CPython: 10 and 10)


def pace() -> None:
    """Collect at that pace at least; a host that set a slower one keeps it. Idempotent."""
    young, middle, old = gc.get_threshold()
    if young == 0:  # the collector is off (gc.disable() is the other switch): left as it is
        return
    gc.set_threshold(max(young, YOUNG), max(middle, OLDER), max(old, OLDER))
