"""Batched health (issue 23) under attack: rows that name no workload, one workload's bad metric in a batch of
50, and a release whose queries need more than Log Analytics' budget (no workload may be starved by the ones
listed before it)."""

from __future__ import annotations

from shared.adapters.metrics.logs import LogsSource
from shared.adapters.metrics.platform import PlatformMetricsSource
from shared.domain.health import Reading
from tests.monitor.test_monitor_sources import END, FAST, START, SUB, WS, checks, logs_check, metric_check, points

BY_WORKLOAD = "requests | summarize value = 1.0, samples = count() by workload = cloud_RoleName"


def test_a_row_without_a_workload_name_is_no_workloads_reading(monitor, settings_monitor):
    """Rows whose `workload` is null (requests without a role name) belong to no workload: not to one that happens
    to be named `none` (names are [a-z0-9-]), which would be judged on data that is not its own."""

    def rows(query, timespan):
        return [("workload", "string"), ("value", "real"), ("samples", "long")], [[None, 0.1, 900], ["api", 0.2, 800]]

    monitor.workspace(WS, rows)
    asking = [(w, checks(logs_check(query=BY_WORKLOAD)), START, END) for w in ("none", "api")]
    got = LogsSource(settings_monitor).read_many("wave-1", asking)
    assert got["api"] == {"error-rate": Reading(value=0.2, samples=800)}
    assert got["none"] == {"error-rate": Reading()}  # no row of its own: no data


def vm(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-{name}"


def test_one_workloads_bad_metric_does_not_leave_the_rest_of_its_batch_without_data(monitor, settings_monitor):
    """Azure answers a metrics:getBatch call 400 as a whole when one of its metrics or resources is wrong ("Metric:
    Egress does not support requested dimension combination", the migration guide's example). One workload's typo
    must not make 49 others inconclusive (and after `inconclusive_limit` rounds, unhealthy): no data, per workload."""
    names = [f"w{i:02d}" for i in range(6)]
    for n in names:
        monitor.resource(vm(n), "westeurope", {"Percentage CPU": points((40, 4), (42, 4))})
    asking = [(n, checks(metric_check("cpu", vm(n))), START, END) for n in names]
    asking[3] = ("w03", checks(metric_check("cpu", vm("w03"), metric="Percentage CPUX")), START, END)  # a typo
    source = PlatformMetricsSource(settings_monitor, FAST)
    got = source.read_many("wave-1", asking)
    assert got["w03"]["cpu"].error and "Percentage CPUX" in got["w03"]["cpu"].error
    assert {n: got[n]["cpu"] for n in names if n != "w03"} == {
        n: Reading(value=41.0, samples=8) for n in names if n != "w03"
    }
    assert source.calls <= 1 + 2 * 3  # the batch, then halves down to the bad resource: a few calls, not one each


def test_resources_of_two_types_are_never_batched_together_under_one_stated_namespace(monitor, settings_monitor):
    """A batch is of one resource type (the migration guide's batching restrictions): a check that states the
    metric namespace of another type is wrong on its own, without taking a correct one of another type with it."""
    vmss = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss-1"
    monitor.resource(vm("a"), "westeurope", {"Percentage CPU": points((40, 4))})
    monitor.resource(vmss, "westeurope", {"Percentage CPU": points((40, 4))})
    stated = {"metric_namespace": "Microsoft.Compute/virtualMachines"}
    asking = [
        ("a", checks({**metric_check("cpu", vm("a")), **stated}), START, END),
        ("b", checks({**metric_check("cpu", vmss), **stated}), START, END),
    ]
    source = PlatformMetricsSource(settings_monitor, FAST)
    got = source.read_many("wave-1", asking)
    assert got["a"]["cpu"] == Reading(value=40.0, samples=4)
    assert got["b"]["cpu"].error and source.calls == 2


def test_retry_after_as_an_http_date_and_a_malformed_one(monitor, settings_monitor):
    """Retry-After is delta-seconds or an HTTP date (RFC 9110): both are waited out; a value that is neither (here
    `inf`, which float() reads) is no figure at all, not a wait that never ends for every later query."""
    import email.utils
    import time

    monitor.workspace(WS, lambda query, timespan: ([("value", "real"), ("samples", "long")], [[0.1, 500]]))
    monitor.fail("logs", 429, retry_after=email.utils.formatdate(time.time() + 20, usegmt=True))
    monitor.fail("logs", 429, retry_after="inf")
    source = LogsSource(settings_monitor, FAST)
    dated = source.read("r", "w", checks(logs_check()), START, END)["error-rate"]
    assert dated.throttled and 15 <= dated.retry_after <= 20
    malformed = source.read("r", "w", checks(logs_check()), START, END)["error-rate"]
    assert malformed.throttled and malformed.retry_after is None


def test_after_a_429_the_rest_of_a_releases_queries_are_not_sent(monitor, settings_monitor):
    """A 429 stops the judge's calls to that API until its Retry-After has passed, also those of the same read
    still waiting for one of the 5 query slots: per-workload query texts, Monitor's budget 1 query."""
    from shared.application.monitor_budget import MonitorBudget
    from tests.fakes import FakeClock

    monitor.logs_per_30s, monitor.logs_latency = 1, 0.5
    monitor.workspace(WS, lambda query, timespan: ([("value", "real"), ("samples", "long")], [[0.1, 500]]))
    asking = [
        (n, checks(logs_check(query=f"requests | where cloud_RoleName == '{n}' | summarize value = 0.1, samples = 1")))
        for n in [f"w{i}" for i in range(9)]
    ]
    got = LogsSource(settings_monitor, FAST).read_many(
        "r", [(n, c, START, END) for n, c in asking], MonitorBudget(FakeClock())
    )
    assert sum(not r["error-rate"].throttled for r in got.values()) == 1
    assert len(monitor.calls) <= 5  # the first 5 went together; none after a 429 came back


def test_a_read_mixing_per_workload_queries_and_a_batched_one(monitor, settings_monitor):
    """Contract §10's per-workload query (no workload column: its first row is that workload's) beside the release's
    batched one (`by workload`): one query each, every workload read from its own query only."""
    seen = []

    def rows(query, timespan):
        seen.append(query)
        if "by workload" in query:
            return [("workload", "string"), ("value", "real"), ("samples", "long")], [["api", 0.2, 800], ["web", 3, 9]]
        return [("value", "real"), ("samples", "long")], [[0.7, 300]]

    monitor.workspace(WS, rows)
    own = "requests | where cloud_RoleName == 'payroll' | summarize value = 0.7, samples = count()"
    asking = [
        ("api", checks(logs_check(query=BY_WORKLOAD)), START, END),
        ("payroll", checks(logs_check(query=own)), START, END),
        ("web", checks(logs_check(query=BY_WORKLOAD)), START, END),
    ]
    got = LogsSource(settings_monitor).read_many("wave-1", asking)
    assert got == {
        "api": {"error-rate": Reading(value=0.2, samples=800)},
        "payroll": {"error-rate": Reading(value=0.7, samples=300)},
        "web": {"error-rate": Reading(value=3.0, samples=9)},
    }
    assert sorted(seen) == sorted([BY_WORKLOAD, own])
