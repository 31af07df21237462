"""CPython's cyclic garbage collector held back while a large release moves as a whole.

A release-level move of 5,000 workloads allocates about a million objects in a second (the release read whole,
its decision, the commit point's payload). At CPython's pace (a young collection every 700 net allocations, an
older one every 10 of those) the collector walks that growing heap again and again: 0.1-0.3 s of the second
until the decision is visible (bench/scale.py). For that message only, young objects are collected every
50,000 allocations and older ones every 100 of those; the pace is restored when it ends. Not for every
message: a host held at that pace for good doubled its memory (bench/run.py: 77 MB peak -> 158 MB), since
some garbage of every message is in cycles that wait for the collector."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

YOUNG = 50_000  # net allocations between young collections while held (CPython: 700)
OLDER = 100  # young collections between collections of the older generations while held (CPython: 10)
LARGE = 1_000  # workloads: a release this large is moved with the collector held

_lock = threading.Lock()
_holders = 0
_pace: tuple[int, int, int] | None = None  # the pace to restore


@contextmanager
def held_collector() -> Iterator[None]:
    """The collector at the held pace while any holder holds it (messages on several threads), then as before.
    A collector turned off (threshold 0) is left off."""
    global _holders, _pace
    with _lock:
        if _holders == 0:
            _pace = gc.get_threshold()
            young, middle, old = _pace
            if young:
                gc.set_threshold(max(young, YOUNG), max(middle, OLDER), max(old, OLDER))
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _pace is not None:
                gc.set_threshold(*_pace)
                _pace = None


def holding(attempt: Callable[[ExitStack], T]) -> Callable[[int], T]:
    """An attempt (retry_on_conflict's) run with an ExitStack of its own: what it holds ends with it."""

    def run(_: int) -> T:
        with ExitStack() as held:
            return attempt(held)

    return run


def hold_if_large(held: ExitStack, store: Any, release: str) -> None:
    """Hold the collector until `held` ends if the store knows `release` has LARGE workloads or more (no I/O:
    a store without `known_size`, or that has not read the release's layout yet, holds nothing)."""
    known_size = getattr(store, "known_size", None)
    if known_size is not None and known_size(release) >= LARGE:
        held.enter_context(held_collector())
