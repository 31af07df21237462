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
