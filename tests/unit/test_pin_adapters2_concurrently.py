"""shared/adapters/concurrently.py each(): the exact pacing of starts on a clock that stands still (each start one
gap after the one before, no sleep for the first), and never more than `at_once` calls running together."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from shared.adapters import concurrently
from shared.adapters.concurrently import each


def test_starts_are_one_gap_apart_and_the_first_does_not_sleep(monkeypatch):
    slept, lock = [], threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            slept.append(seconds)

    # a clock that stands still: every start's wait is its place in the queue times the gap
    monkeypatch.setattr(concurrently, "time", SimpleNamespace(monotonic=lambda: 100.0, sleep=sleep))
    done = []
    each(done.append, range(5), at_once=4, name="t", starts_per_second=20)
    assert sorted(done) == [0, 1, 2, 3, 4]
    assert sorted(slept) == pytest.approx([0.05, 0.10, 0.15, 0.20])


def test_no_more_than_at_once_calls_run_together():
    running, peak, lock = [0], [0], threading.Lock()

    def call(_: int) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.2)  # long enough for every started call to overlap
        with lock:
            running[0] -= 1

    each(call, range(5), at_once=2, name="t", starts_per_second=1000)
    assert peak[0] == 2
