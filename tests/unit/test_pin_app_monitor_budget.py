"""The judge's Monitor budget counts every 429 Azure answered, per API (monitor_budget.MonitorBudget.throttled),
and blocks that API for the Retry-After given, or 5 s when none is."""

from __future__ import annotations

from collections import Counter

from shared.application.monitor_budget import MonitorBudget
from tests.fakes import FakeClock


def test_each_429_is_counted_per_api_and_blocks_for_its_retry_after():
    budget = MonitorBudget(FakeClock())
    assert budget.throttled("logs", 12.0) == 12.0
    assert budget.throttled("logs", None) == 5.0
    assert budget.throttled("metrics", 3.0) == 3.0
    assert budget.throttles == Counter({"logs": 2, "metrics": 1})
    assert (budget.blocked("logs"), budget.blocked("metrics")) == (12.0, 3.0)


class Seconds:
    """A clock that answers seconds (the judge's own monotonic clock), not datetimes."""

    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t


def test_logs_queries_are_paced_and_counted_metrics_only_counted():
    clock = Seconds()
    budget = MonitorBudget(clock, logs_queries_per_30s=4)  # paced: 3 in any 30 s
    assert [budget.take("logs") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert budget.take("logs") == 30.0  # until the first of the three leaves the window
    assert [budget.take("metrics") for _ in range(50)] == [0.0] * 50  # no documented rate: never paced
    assert (budget.sent, budget.held) == (Counter({"metrics": 50, "logs": 3}), Counter({"logs": 1}))


def test_a_releases_smaller_budget_holds_for_the_window_it_asked_in_only():
    clock = Seconds()
    budget = MonitorBudget(clock)
    budget.limits["r1"] = 2  # paced: 1 in any 30 s
    assert budget.take("logs", "r1") == 0.0
    clock.t += 30  # r1 asked a whole window ago: its budget no longer holds
    assert [budget.take("logs"), budget.take("logs")] == [0.0, 0.0]
