"""The Azure Monitor providers: the real SDK clients (LogsQueryClient, MetricsClient) against a local Monitor
that speaks the Log Analytics query API and the metrics batch API, faults included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.metrics import metrics_sources
from shared.adapters.metrics.logs import LogsSource
from shared.adapters.metrics.platform import PlatformMetricsSource, fold
from shared.domain.health import Health, Reading

WS = "11111111-2222-3333-4444-555555555555"
SUB = "00000000-0000-0000-0000-000000000000"
VM1 = f"/subscriptions/{SUB}/resourceGroups/rg-payroll/providers/Microsoft.Compute/virtualMachines/vm-web-01"
VM2 = f"/subscriptions/{SUB}/resourceGroups/rg-payroll/providers/Microsoft.Compute/virtualMachines/vm-web-02"
END = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
START = END - timedelta(minutes=3)
FAST = {"retry_backoff_factor": 0.01, "retry_backoff_max": 0.05}


def checks(*specs: dict) -> list:
    return list(Health(checks=list(specs)).checks)


def logs_check(**extra) -> dict:
    return {
        "name": "error-rate",
        "provider": "azure-monitor-logs",
        "workspace": WS,
        "max": 1.0,
        "min_samples": 100,
        "query": "requests | summarize value = 100.0 * countif(success == false) / count(), samples = count()",
        **extra,
    }


def metric_check(name: str, resource: str, metric: str = "Percentage CPU", aggregation: str = "Average") -> dict:
    return {
        "name": name,
        "provider": "azure-monitor-metrics",
        "resource": resource,
        "metric": metric,
        "aggregation": aggregation,
        "max": 80,
        "region": "westeurope",
    }


def answer(value, samples, columns=(("value", "real"), ("samples", "long"))):
    seen = []

    def respond(query, timespan):
        seen.append((query, timespan))
        return list(columns), ([] if value is None and samples is None else [[value, samples]])

    respond.seen = seen  # type: ignore[attr-defined]
    return respond


def points(*values: tuple[float, int], start: datetime = START) -> list[dict]:
    """One-minute points; a minute without data has only its timestamp, as the API answers it."""
    return [
        {
            "timeStamp": (start + timedelta(minutes=i)).isoformat().replace("+00:00", "Z"),
            **({} if v is None else {"average": v, "minimum": v, "maximum": v + 5, "count": c}),
        }
        for i, (v, c) in enumerate(values)
    ]


# -- logs ---------------------------------------------------------------------------------------------
def test_logs_reads_value_and_samples_over_the_window_with_the_monitor_token(monitor, settings_monitor, credential):
    respond = answer(0.42, 812)
    monitor.workspace(WS, respond)
    readings = LogsSource(settings_monitor).read("wave-1", "payroll", checks(logs_check()), START, END)
    assert readings == {"error-rate": Reading(value=0.42, samples=812)}
    [(query, (start, end))] = respond.seen
    assert "summarize value" in query and (start, end) == (START, END)
    assert credential.scopes[-1] == ("https://api.loganalytics.io/.default",)


@pytest.mark.parametrize(
    "value, samples, columns, expected",
    [
        (None, None, (("value", "real"), ("samples", "long")), Reading()),  # an empty result
        (0.1, None, (("value", "real"), ("samples", "long")), Reading(value=0.1, samples=None)),
        (0.1, 5, (("rate", "real"), ("n", "long")), None),  # the wrong columns: an error, named
    ],
)
def test_logs_empty_or_malformed_results_are_no_data(monitor, settings_monitor, value, samples, columns, expected):
    monitor.workspace(WS, answer(value, samples, columns))
    reading = LogsSource(settings_monitor).read("r", "w", checks(logs_check()), START, END)["error-rate"]
    if expected is None:
        assert reading.error and "must return columns value and samples" in reading.error
    else:
        assert reading == expected


def test_logs_partial_results_are_not_trusted(monitor, settings_monitor):
    monitor.workspace(WS, answer(0.1, 500))
    monitor.fail("logs", 200, partial=True)
    reading = LogsSource(settings_monitor).read("r", "w", checks(logs_check()), START, END)["error-rate"]
    assert reading.value is None and "partial result" in reading.error and "memory limit" in reading.error


def test_logs_429_is_a_throttled_reading_with_its_retry_after_and_not_slept_on(monitor, settings_monitor):
    """The SDK does not sleep a Retry-After inside the judge's round: the reading says how long to wait, and the
    judge's budget makes the evaluation in a later round (tests/monitor/test_judge_batched.py)."""
    monitor.workspace(WS, answer(0.2, 300))
    monitor.fail("logs", 429, retry_after="20")
    began = datetime.now(UTC)
    reading = LogsSource(settings_monitor, FAST).read("r", "w", checks(logs_check()), START, END)["error-rate"]
    assert reading.throttled and reading.retry_after == 20 and reading.error.startswith("HTTP 429")
    assert [c.status for c in monitor.calls] == [429]
    assert datetime.now(UTC) - began < timedelta(seconds=5)


def test_logs_server_errors_are_still_retried_by_the_sdk(monitor, settings_monitor):
    monitor.workspace(WS, answer(0.2, 300))
    monitor.fail("logs", 503, times=1)
    reading = LogsSource(settings_monitor, FAST).read("r", "w", checks(logs_check()), START, END)["error-rate"]
    assert reading == Reading(value=0.2, samples=300)
    assert [c.status for c in monitor.calls] == [503, 200]


def test_logs_errors_and_unknown_workspaces_are_inconclusive(monitor, settings_monitor):
    reading = LogsSource(settings_monitor, FAST).read("r", "w", checks(logs_check()), START, END)["error-rate"]
    assert reading.error.startswith("HTTP 404") and "WorkspaceNotFound" in reading.error
    monitor.workspace(WS, answer(0.2, 300))
    monitor.fail("logs", 500, times=10)
    reading = LogsSource(settings_monitor, FAST).read("r", "w", checks(logs_check()), START, END)["error-rate"]
    assert reading.error.startswith("HTTP 500")


def test_logs_timeouts_are_inconclusive(monitor, settings_monitor):
    monitor.workspace(WS, answer(0.2, 300))
    monitor.fail("logs", 200, delay=1.5, times=3)
    source = LogsSource(settings_monitor, {**FAST, "read_timeout": 0.5, "retry_total": 0})
    reading = source.read("r", "w", checks(logs_check()), START, END)["error-rate"]
    assert reading.value is None and reading.error


# -- metrics ------------------------------------------------------------------------------------------
def test_metrics_of_several_resources_are_one_batched_call(monitor, settings_monitor, credential):
    monitor.resource(
        VM1,
        "westeurope",
        {"Percentage CPU": points((40, 4), (60, 4), (None, 0)), "Available Memory Bytes": points((2e9, 4))},
    )
    # one namespace, one set of metric definitions: the batch asks every resource for every metric name
    monitor.resource(VM2, "westeurope", {"Percentage CPU": points((10, 2)), "Available Memory Bytes": []})
    source = PlatformMetricsSource(settings_monitor)
    readings = source.read(
        "r",
        "w",
        checks(
            metric_check("cpu-1", VM1),
            metric_check("cpu-2", VM2),
            metric_check("mem-1", VM1, "Available Memory Bytes", "Minimum"),
        ),
        START,
        END,
    )
    assert readings["cpu-1"] == Reading(value=50.0, samples=8)
    assert readings["cpu-2"] == Reading(value=10.0, samples=2)
    assert readings["mem-1"] == Reading(value=2e9, samples=4)
    [call] = monitor.calls
    assert source.calls == 1 and call.path == f"/regions/westeurope/subscriptions/{SUB}/metrics:getBatch"
    assert call.query["metricnamespace"] == "Microsoft.Compute/virtualMachines"
    assert set(call.query["aggregation"].split(",")) == {"Average", "Minimum", "Count"}
    assert sorted(call.body["resourceids"]) == sorted([VM1, VM2])
    assert credential.scopes[-1] == ("https://metrics.monitor.azure.com/.default",)


def test_metrics_without_points_in_the_window_are_no_data(monitor, settings_monitor):
    monitor.resource(VM1, "westeurope", {"Percentage CPU": points((40, 4), start=START - timedelta(hours=1))})
    reading = PlatformMetricsSource(settings_monitor).read("r", "w", checks(metric_check("cpu", VM1)), START, END)[
        "cpu"
    ]
    assert reading == Reading(samples=0)


def test_metrics_errors_throttling_and_refusals_are_inconclusive(monitor, settings_monitor):
    monitor.resource(VM1, "northeurope", {"Percentage CPU": points((40, 4))})
    source = PlatformMetricsSource(settings_monitor, FAST)
    wrong_region = source.read("r", "w", checks(metric_check("cpu", VM1)), START, END)["cpu"]
    assert wrong_region.error.startswith("HTTP 400") and "not westeurope" in wrong_region.error
    monitor.resources.clear()
    monitor.resource(VM1, "westeurope", {"Percentage CPU": points((40, 4))})
    unknown = source.read("r", "w", checks(metric_check("cpu", VM1, "Disk Magic")), START, END)["cpu"]
    assert "Failed to find metric configuration" in unknown.error
    monitor.fail("metrics", 429, times=10, retry_after="7")
    throttled = source.read("r", "w", checks(metric_check("cpu", VM1)), START, END)["cpu"]
    assert throttled.error.startswith("HTTP 429") and throttled.throttled and throttled.retry_after == 7


def test_folding_points_into_each_aggregation():
    pts = [
        type("P", (), {"average": a, "minimum": a, "maximum": a, "total": a, "count": c})()
        for a, c in ((10.0, 1), (40.0, 3), (None, None))
    ]
    assert fold(pts, "Average") == Reading(value=32.5, samples=4)
    assert fold(pts, "Maximum") == Reading(value=40.0, samples=4)
    assert fold(pts, "Minimum") == Reading(value=10.0, samples=4)
    assert fold(pts, "Total") == Reading(value=50.0, samples=4)
    assert fold([], "Average") == Reading(samples=0)
    assert fold(None, "Average").error


# -- every provider behind one port -------------------------------------------------------------------
def test_one_call_per_check_at_most_and_an_outage_is_no_data_for_every_check(monitor, settings_monitor):
    monitor.workspace(WS, answer(0.3, 900))
    monitor.resource(VM1, "westeurope", {"Percentage CPU": points((40, 4)), "Network In": points((9, 4))})
    sources = metrics_sources(settings_monitor, lambda: None)
    specs = checks(logs_check(), metric_check("cpu", VM1), metric_check("net", VM1, "Network In"))
    readings = sources.read("r", "w", specs, START, END)
    assert all(r.error is None for r in readings.values()) and sources.calls == 2 <= len(specs)
    monitor.fail("logs", 503, times=10)
    monitor.fail("metrics", 503, times=10)
    readings = sources.read("r", "w", specs, START, END)
    assert all(r.value is None and r.error for r in readings.values())
