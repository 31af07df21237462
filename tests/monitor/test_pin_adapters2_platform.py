"""What the platform metrics source (shared/adapters/metrics/platform.py) does with the judge's budget and with
a slow or throttled Monitor, against the local Monitor: the exact reading of a call held back before it is sent
or while it waited for a slot, a 429 left to the budget (never retried by the SDK), a read timeout, and at most
METRICS_CONCURRENT batch calls in flight, on the source's own threads."""

from __future__ import annotations

import threading
from datetime import timedelta

from shared.adapters.metrics.platform import PlatformMetricsSource
from shared.domain.health import Reading
from tests.monitor.test_monitor_sources import END, FAST, START, SUB, checks, metric_check, points

HELD = "held back: metrics throttled (Retry-After)"


def vm(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-{name}"


class Budget:
    """The judge's budget as the source sees it: `take` answers from `takes` in turn (0 once they are spent),
    `blocked` answers `blocked_for`, `throttled` answers `throttled_for`; every question is written down."""

    def __init__(self, takes=(), blocked_for: float = 0.0, throttled_for: float = 0.0):
        self.takes, self.blocked_for, self.throttled_for = list(takes), blocked_for, throttled_for
        self.asked: list[str] = []

    def take(self, api: str, *args) -> float:
        self.asked.append(f"take {api}")
        return self.takes.pop(0) if self.takes else 0.0

    def blocked(self, api: str) -> float:
        self.asked.append(f"blocked {api}")
        return self.blocked_for

    def throttled(self, api: str, retry_after: float | None) -> float:
        self.asked.append(f"throttled {api} {retry_after}")
        return self.throttled_for


def cpu_and_max(resource: str, region: str = "westeurope") -> list:
    return checks(
        {**metric_check("cpu", resource), "region": region},
        {**metric_check("cpu-max", resource, aggregation="Maximum"), "region": region},
    )


def test_a_call_the_budget_holds_back_is_not_sent_and_the_next_call_still_is(monitor, settings_monitor):
    monitor.resource(vm("a"), "westeurope", {"Percentage CPU": points((40, 4), (42, 4))})
    monitor.resource(vm("b"), "northeurope", {"Percentage CPU": points((40, 4), (42, 4))})
    budget = Budget(takes=[4.5])  # the first call (westeurope) is held 4.5 s, the second (northeurope) sent
    source = PlatformMetricsSource(settings_monitor, FAST)
    got = source.read_many(
        "wave-1",
        [("a", cpu_and_max(vm("a")), START, END), ("b", cpu_and_max(vm("b"), "northeurope"), START, END)],
        budget,
    )
    held = Reading(error=HELD, throttled=True, retry_after=4.5)
    assert got == {
        "a": {"cpu": held, "cpu-max": held},
        "b": {"cpu": Reading(value=41.0, samples=8), "cpu-max": Reading(value=47.0, samples=8)},
    }
    assert [c.path for c in monitor.calls] == [f"/regions/northeurope/subscriptions/{SUB}/metrics:getBatch"]
    assert budget.asked == ["take metrics", "take metrics", "blocked metrics"]
    assert source.calls == 1 and source.batch_sizes == [1]


def test_a_call_that_waited_for_a_slot_behind_a_429_is_not_sent(monitor, settings_monitor):
    monitor.resource(vm("a"), "westeurope", {"Percentage CPU": points((40, 4), (42, 4))})
    budget = Budget(blocked_for=6.0)
    source = PlatformMetricsSource(settings_monitor, FAST)
    got = source.read_many("wave-1", [("a", cpu_and_max(vm("a")), START, END)], budget)
    held = Reading(error=HELD, throttled=True, retry_after=6.0)
    assert got == {"a": {"cpu": held, "cpu-max": held}}
    assert monitor.calls == [] and source.calls == 0 and source.batch_sizes == []
    assert budget.asked == ["take metrics", "blocked metrics"]


def test_a_429_is_not_retried_by_the_sdk_and_its_wait_is_the_budgets(monitor, settings_monitor):
    monitor.resource(vm("a"), "westeurope", {"Percentage CPU": points((40, 4), (42, 4))})
    monitor.fail("metrics", 429, retry_after="1")  # the SDK's own policy would sleep 1 s and try again
    budget = Budget(throttled_for=30.0)
    source = PlatformMetricsSource(settings_monitor, FAST)
    got = source.read_many("wave-1", [("a", cpu_and_max(vm("a")), START, END)], budget)
    throttled = Reading(error="HTTP 429: (TooManyRequests) injected 429", throttled=True, retry_after=30.0)
    assert got == {"a": {"cpu": throttled, "cpu-max": throttled}}
    assert [c.status for c in monitor.calls] == [429]
    assert budget.asked == ["take metrics", "blocked metrics", "throttled metrics 1.0"]


def test_an_answer_slower_than_the_read_timeout_is_an_error_for_every_check(monitor, settings_monitor):
    monitor.resource(vm("a"), "westeurope", {"Percentage CPU": points((40, 4), (42, 4))})
    monitor.resource(vm("b"), "westeurope", {"Percentage CPU": points((40, 4), (42, 4))})
    monitor.fail("metrics", 200, delay=1.5)
    source = PlatformMetricsSource(settings_monitor, {**FAST, "read_timeout": 0.5, "retry_total": 0})
    got = source.read_many("wave-1", [("a", cpu_and_max(vm("a")), START, END), ("b", cpu_and_max(vm("b")), START, END)])
    port = monitor.url.rsplit(":", 1)[1]
    # no HTTP status: an error as it is, not halved as a 400 would be
    timed_out = Reading(
        error=f"ServiceResponseTimeoutError: HTTPSConnectionPool(host='127.0.0.1', port={port}): Read timed out. "
        "(read timeout=0.5)"
    )
    assert got == {"a": {"cpu": timed_out, "cpu-max": timed_out}, "b": {"cpu": timed_out, "cpu-max": timed_out}}
    assert source.batch_sizes == [2]


def test_at_most_eight_batch_calls_are_in_flight_on_the_sources_own_threads(monitor, settings_monitor, credential):
    monitor.resource(
        vm("a"), "westeurope", {"Percentage CPU": points((40, 4), (42, 4), start=START - timedelta(hours=1))}
    )
    in_flight, peak, lock, eight = [0], [0], threading.Lock(), threading.Event()
    handle = monitor.handle

    def counting(*args):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
            if in_flight[0] >= 8:
                eight.set()
        eight.wait(10)  # every call is held until eight are in flight at once (or 10 s pass)
        try:
            return handle(*args)
        finally:
            with lock:
                in_flight[0] -= 1

    monitor.handle = counting
    threads: list[str] = []
    get_token = credential.get_token

    def token(*scopes, **kwargs):
        threads.append(threading.current_thread().name)
        return get_token(*scopes, **kwargs)

    credential.get_token = token
    # ten windows: ten calls, one resource each
    windows = [(START - timedelta(minutes=10 * i), END - timedelta(minutes=10 * i)) for i in range(10)]
    source = PlatformMetricsSource(settings_monitor, FAST)
    got = source.read_many(
        "wave-1", [(f"w{i}", checks(metric_check("cpu", vm("a"))), s, e) for i, (s, e) in enumerate(windows)]
    )
    # the points lie in the window an hour back (w6) only
    assert got == {f"w{i}": {"cpu": Reading(41.0, 8) if i == 6 else Reading(samples=0)} for i in range(10)}
    assert peak[0] == 8 and source.batch_sizes == [1] * 10
    assert threads and all(name.startswith("metrics_") for name in threads)
