"""A metrics batch Azure refuses as a whole (400) is read in halves down to the culprits, within a budget of
calls (shared/adapters/metrics/platform.py _halves): the calls pinned size by size, in order."""

from __future__ import annotations

from shared.adapters.metrics.platform import PlatformMetricsSource
from shared.domain.health import Reading
from tests.monitor.test_monitor_sources import END, FAST, START, SUB, checks, metric_check, points


def vm(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-{name}"


class Budget:
    """The judge's budget as the source sees it: never holding anything back, counting what it is asked."""

    def __init__(self):
        self.asked: list[str] = []

    def take(self, api: str, *args) -> float:
        self.asked.append(f"take {api}")
        return 0.0

    def blocked(self, api: str) -> float:
        self.asked.append(f"blocked {api}")
        return 0.0


def read(monitor, settings_monitor, names: list[str], bad: set[str], budget=None):
    for n in names:
        monitor.resource(vm(n), "westeurope", {"Percentage CPU": points((40, 4), (42, 4))})
    asking = [
        (n, checks(metric_check("cpu", vm(n), metric="Percentage CPUX" if n in bad else "Percentage CPU")), START, END)
        for n in names
    ]
    source = PlatformMetricsSource(settings_monitor, FAST)
    return source, source.read_many("wave-1", asking, budget)


def test_one_bad_resource_is_found_by_halving_first_half_first(monitor, settings_monitor):
    budget = Budget()
    names = [f"w{i}" for i in range(6)]
    source, got = read(monitor, settings_monitor, names, {"w3"}, budget)
    # 6 refused; its first half (w0-w2) read; its second (w3-w5) refused, halved: w3 alone refused, w4-w5 read
    assert source.batch_sizes == [6, 3, 3, 1, 2]
    assert budget.asked == ["take metrics"] + ["blocked metrics"] * 5  # every call of the halving asks the budget
    assert {n: got[n]["cpu"] for n in names if n != "w3"} == {n: Reading(41.0, 8) for n in names if n != "w3"}
    assert got["w3"]["cpu"].error and got["w3"]["cpu"].error.startswith("HTTP 400: ")


def test_the_halving_stops_when_its_calls_are_spent(monitor, settings_monitor):
    names = [f"w{i}" for i in range(8)]
    source, got = read(monitor, settings_monitor, names, set(names))
    # 8 resources may split 2 x bit_length(8) + 2 = 10 calls' worth, two a split: five splits, then no more
    assert source.batch_sizes == [8, 4, 2, 1, 1, 2, 1, 1, 4, 2, 2]
    assert all(got[n]["cpu"].error and got[n]["cpu"].error.startswith("HTTP 400: ") for n in names)


def test_reading_one_workload_is_reading_many_of_one(monitor, settings_monitor):
    monitor.resource(vm("a"), "westeurope", {"Percentage CPU": points((40, 4), (42, 4))})
    source = PlatformMetricsSource(settings_monitor, FAST)
    assert source.read("wave-1", "a", checks(metric_check("cpu", vm("a"))), START, END) == {"cpu": Reading(41.0, 8)}
    assert source.calls == 1
