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


def check(name: str, vm: str, region: str = "westeurope") -> MetricsCheck:
    return MetricsCheck(name=name, provider="azure-monitor-metrics", resource=f"{VM}/{vm}", metric="Percentage CPU",
                        region=region, max=90.0)  # fmt: skip


def test_a_throttled_api_holds_every_check_back_with_its_wait():
    budget = MonitorBudget(FakeClock())
    budget.throttled("metrics", 12.0)
    source = PlatformMetricsSource(settings=None)  # no client is built: nothing is sent
    start, end = T0 - timedelta(minutes=5), T0
    asking = [
        ("api", [check("cpu", "vm-1")], start, end),
        ("web", [check("cpu", "vm-2"), check("cpu2", "vm-2")], start, end),
    ]
    asking.append(("db", [check("cpu", "vm-3", "northeurope")], start, end))  # another region: another call
    readings = source.read_many("r1", asking, budget)
    held = Reading(error="held back: metrics throttled (Retry-After)", throttled=True, retry_after=12.0)
    assert readings == {"api": {"cpu": held}, "web": {"cpu": held, "cpu2": held}, "db": {"cpu": held}}
    assert (source.calls, budget.held["metrics"], budget.sent["metrics"]) == (0, 2, 0)


def test_a_call_that_waited_while_another_came_back_429_is_not_sent():
    budget = MonitorBudget(FakeClock())
    budget.throttled("metrics", 9.0)
    source = PlatformMetricsSource(settings=None)
    readings = source._batch([check("cpu", "vm-1"), check("cpu2", "vm-1")], T0 - timedelta(minutes=5), T0, budget)
    held = Reading(error="held back: metrics throttled (Retry-After)", throttled=True, retry_after=9.0)
    assert (readings, source.calls) == ([held, held], 0)


class Answer:
    """An HTTP response as azure-core's HttpResponseError reads it."""

    def __init__(self, status: int, headers: dict):
        self.status_code, self.reason, self.headers = status, "Too Many Requests", headers

    def text(self) -> str:
        return ""


class Throttling:
    """A metrics client Azure answers 429 with a Retry-After."""

    def query_resources(self, **_):
        from azure.core.exceptions import HttpResponseError

        raise HttpResponseError(message="throttled", response=Answer(429, {"Retry-After": "7"}))  # type: ignore[arg-type]


def test_a_429_blocks_metrics_for_its_retry_after_and_reads_as_throttled():
    budget = MonitorBudget(FakeClock())
    source = PlatformMetricsSource(settings=None)
    source._clients["westeurope"] = Throttling()  # the client Azure answers with (built once per region)
    [reading] = source._batch([check("cpu", "vm-1")], T0 - timedelta(minutes=5), T0, budget)
    assert reading == Reading(error="HTTP 429: throttled", throttled=True, retry_after=7.0)
    assert (budget.throttles["metrics"], budget.blocked("metrics")) == (1, 7.0)
