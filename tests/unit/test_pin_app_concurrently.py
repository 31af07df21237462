"""concurrently.each's two limits (shared/adapters/concurrently.py): at most `at_once` calls under way however
long each takes, and starts spaced 1/starts_per_second apart (not more)."""

from __future__ import annotations

import threading
import time

from shared.adapters.concurrently import each


def test_no_more_than_at_once_calls_are_under_way_while_each_takes_long():
    running, peak, lock = [0], [0], threading.Lock()

    def call(_: int) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.3)  # the fourth start (30 ms in) comes long before the first call ends
        with lock:
            running[0] -= 1

    each(call, range(6), at_once=3, name="t", starts_per_second=100)
    assert peak[0] == 3


def test_starts_are_spaced_by_one_over_the_rate():
    starts, lock = [], threading.Lock()

    def call(_: int) -> None:
        with lock:
            starts.append(time.monotonic())

    each(call, range(3), at_once=3, name="t", starts_per_second=5)
    span = max(starts) - min(starts)
    assert 0.38 <= span < 0.7  # two gaps of 0.2 s
