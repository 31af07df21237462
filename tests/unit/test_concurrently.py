"""shared/adapters/concurrently.py: a release move's independent storage calls, several at a time."""

from __future__ import annotations

import contextvars
import threading
import time

import pytest

from shared.adapters.concurrently import BATCH_ENTITIES, PARTITION_ENTITIES_PER_SECOND, each

WHO = contextvars.ContextVar("who")


def test_every_item_is_called_once_in_the_callers_context():
    WHO.set("the message")
    seen, lock = [], threading.Lock()

    def call(item: int) -> None:
        with lock:
            seen.append((item, WHO.get(None), threading.current_thread().name))

    each(call, range(9), at_once=4, name="catch-up")
    assert sorted(item for item, _, _ in seen) == list(range(9))
    assert {who for _, who, _ in seen} == {"the message"}  # a copy of the caller's context, not an empty one
    assert all(thread.startswith("catch-up") for _, _, thread in seen)


def test_at_most_at_once_run_together():
    running, peak, lock = [0], [0], threading.Lock()
    barrier = threading.Barrier(3, timeout=5)

    def call(_: int) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        barrier.wait()  # three at once must be possible, or this times out
        with lock:
            running[0] -= 1

    each(call, range(6), at_once=3, name="t")
    assert peak[0] == 3


def test_after_a_failure_no_further_item_starts_and_the_first_failure_is_raised():
    started, lock = [], threading.Lock()
    second = threading.Barrier(2, timeout=5)

    def call(item: int) -> None:
        with lock:
            started.append(item)
        if item in (0, 1):
            second.wait()  # items 0 and 1 run together: 1 is under way when 0 fails, and ends
        if item == 0:
            raise ValueError("shard 0")
        if item == 1:
            time.sleep(0.2)  # ends well after 0's failure was seen (microseconds after its raise)

    with pytest.raises(ValueError, match="shard 0"):
        each(call, range(8), at_once=2, name="t")
    assert sorted(started) == [0, 1]  # neither worker took another item after the failure


@pytest.mark.parametrize("items, at_once", [([7], 4), ([1, 2, 3], 1)])
def test_one_item_or_one_at_a_time_runs_on_the_callers_thread(items, at_once):
    threads = []
    each(lambda _: threads.append(threading.current_thread()), items, at_once=at_once, name="t")
    assert threads == [threading.main_thread()] * len(items)


def test_one_at_a_time_a_failure_stops_there():
    done = []

    def call(item: int) -> None:
        if item == 1:
            raise ValueError("shard 1")
        done.append(item)

    with pytest.raises(ValueError, match="shard 1"):
        each(call, [0, 1, 2, 3], at_once=1, name="t")
    assert done == [0]


def test_starts_are_paced_under_a_partitions_entity_budget():
    starts, lock = [], threading.Lock()

    def call(_: int) -> None:
        with lock:
            starts.append(time.monotonic())

    each(call, range(5), at_once=4, name="t", starts_per_second=20)
    starts.sort()
    # the k-th start comes k slots of 50 ms after the first at the earliest (a late wake-up may bring two closer)
    assert all(t - starts[0] >= k * 0.05 - 0.005 for k, t in enumerate(starts))
    assert PARTITION_ENTITIES_PER_SECOND / BATCH_ENTITIES == 20  # Azure's 2,000 entities a second, 100 a batch


def test_the_earliest_failure_is_raised_and_the_others_logged(caplog):
    first_failed = threading.Event()

    def call(item: int) -> None:
        if item == 0:
            first_failed.wait(timeout=5)  # fails after item 1 did
            raise ValueError("shard 0: conflict")
        if item == 1:
            first_failed.set()
            raise OSError("shard 1: 503 ServerBusy")

    with pytest.raises(OSError, match="503"):
        each(call, [0, 1], at_once=2, name="catch-up", starts_per_second=1000)
    assert [r.getMessage() for r in caplog.records] == ["catch-up: another call failed too: shard 0: conflict"]
