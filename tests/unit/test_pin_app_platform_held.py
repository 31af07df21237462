"""Platform metrics held back by the judge's budget (metrics/platform.py read_many): while a 429's Retry-After
runs, no call is sent and every check of the call reads as throttled, with the wait, never as no data."""

from __future__ import annotations

from datetime import timedelta

from shared.adapters.metrics.platform import PlatformMetricsSource
from shared.application.monitor_budget import MonitorBudget
from shared.domain.health import Reading
from shared.domain.plan.health import MetricsCheck
from tests.fakes import T0, FakeClock

VM = "/subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines"


def check(name: str, vm: str) -> MetricsCheck:
    return MetricsCheck(name=name, provider="azure-monitor-metrics", resource=f"{VM}/{vm}", metric="Percentage CPU",
                        region="westeurope", max=90.0)  # fmt: skip


def test_a_throttled_api_holds_every_check_back_with_its_wait():
    budget = MonitorBudget(FakeClock())
    budget.throttled("metrics", 12.0)
    source = PlatformMetricsSource(settings=None)  # no client is built: nothing is sent
    start, end = T0 - timedelta(minutes=5), T0
    asking = [
        ("api", [check("cpu", "vm-1")], start, end),
        ("web", [check("cpu", "vm-2"), check("cpu2", "vm-2")], start, end),
    ]
    readings = source.read_many("r1", asking, budget)
    held = Reading(error="held back: metrics throttled (Retry-After)", throttled=True, retry_after=12.0)
    assert readings == {"api": {"cpu": held}, "web": {"cpu": held, "cpu2": held}}
    assert (source.calls, budget.held["metrics"], budget.sent["metrics"]) == (0, 1, 0)
