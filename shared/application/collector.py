"""The pace of CPython's cyclic garbage collector in a host of promote.

A release-level move of 5,000 workloads allocates about a million objects in a second (the release read whole,
its decision, the commit point's payload). With CPython's default pace (a young collection every 700 net
allocations, a full one every 100 young ones) the collector walks that heap again and again: 15% of the time
until the decision is visible (1.27 s -> 1.10 s at N = 5,000, bench/scale.py). promote's objects are freed by
their reference counts; the collector is only there for cycles, which can wait for 50,000 allocations."""

from __future__ import annotations

import gc

YOUNG = 50_000  # net allocations between young collections (CPython: 700)


def pace() -> None:
    """Collect young objects every YOUNG allocations; a host that set a slower pace keeps it. Idempotent."""
    young, middle, old = gc.get_threshold()
    if 0 < young < YOUNG:  # 0: the collector is off (gc.disable() is the other switch), left as it is
        gc.set_threshold(YOUNG, middle, old)
