"""The metrics sources' pure parts (shared/adapters/metrics/): folding a window's points into a reading, reading
a Log Analytics table, a refusal's Retry-After and text, and a source that fails as a whole."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from azure.core.exceptions import HttpResponseError
from azure.monitor.query import LogsTable
from azure.monitor.querymetrics import MetricValue

from shared.adapters.metrics import MetricsSources
from shared.adapters.metrics._calls import error, retry_after, throttled
from shared.adapters.metrics.logs import _readings
from shared.adapters.metrics.platform import _type, fold
from shared.domain.health import Reading
from tests.fakes import T0


def points(*values: dict) -> list[MetricValue]:
    return [MetricValue(timestamp="2026-11-26T22:00:00Z", **v) for v in values]


def test_no_such_metric_is_an_error_and_no_points_no_samples():
    assert fold(None, "Average") == Reading(error="the response has no such metric for this resource")
    assert fold([], "Average") == Reading(samples=0)
    assert fold(points({"count": 3}), "Average") == Reading(samples=0)  # a count without the aggregation asked


def test_an_average_is_weighted_by_each_points_samples():
    window = points({"average": 10.0, "count": 1}, {"average": 20.0, "count": 3}, {"maximum": 99.0, "count": 5})
    assert fold(window, "Average") == Reading(value=17.5, samples=4)


def test_an_average_without_counts_is_the_mean_of_the_points():
    assert fold(points({"average": 10.0}, {"average": 20.0}, {"average": 60.0}), "Average") == Reading(30.0, 3)
    # points that counted nothing weigh nothing; when none counted anything, the plain mean
    assert fold(points({"average": 10.0, "count": 0}, {"average": 20.0, "count": 2}), "Average") == Reading(20.0, 2)
    assert fold(points({"average": 10.0, "count": 0}, {"average": 20.0, "count": 0}), "Average") == Reading(15.0, 0)


@pytest.mark.parametrize(("aggregation", "value"), [("Minimum", 1.0), ("Maximum", 7.0), ("Total", 10.0)])
def test_minimum_maximum_total_and_count_fold_as_named(aggregation, value):
    field = aggregation.lower()
    window = points({field: 2.0, "count": 2}, {field: 1.0, "count": 1}, {field: 7.0, "count": 4})
    reading = fold(window, aggregation)
    assert reading == Reading(value=value, samples=7) and isinstance(reading.value, float)


def test_a_count_is_the_sum_of_the_counts():
    assert fold(points({"count": 2}, {"count": 1}, {"count": 4}), "Count") == Reading(value=7.0, samples=7)


def test_a_resource_type_is_its_provider_and_every_type_segment():
    vm = "/subscriptions/s/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/vm-1"
    db = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/servers/sql-1/databases/db-1"
    assert _type(vm) == "microsoft.compute/virtualmachines"
    assert _type(db) == "microsoft.sql/servers/databases"


def table(columns: list[str], rows: list[list]) -> list[LogsTable]:
    return [LogsTable(name="PrimaryResult", columns=columns, columns_types=["string"] * len(columns), rows=rows)]


def test_an_empty_answer_is_no_data():
    assert _readings([]) == Reading()
    assert _readings(table(["value", "samples"], [])) == Reading()


def test_a_query_without_value_and_samples_is_told_what_it_returned():
    assert _readings(table(["Value", "n"], [[1, 2]])) == Reading(
        error="the query must return columns value and samples, it returned value, n"
    )
    assert _readings(table(["samples", "x"], [[1, 2]])).error == (
        "the query must return columns value and samples, it returned samples, x"
    )


def test_a_query_without_a_workload_column_measures_the_release_from_its_first_row():
    assert _readings(table(["Samples", "VALUE"], [[40, "0.5"], [1, 9]])) == Reading(value=0.5, samples=40)
    assert _readings(table(["value", "samples"], [[None, None]])) == Reading(value=None, samples=None)
    assert _readings(table(["value", "samples"], [["high", 3]])) == Reading(
        error="value 'high' / samples 3 are not numbers"
    )


def test_a_workload_column_gives_each_workload_its_row():
    of = _readings(
        table(
            ["workload", "value", "samples"],
            [[None, 9.0, 1], ["Shop", 1.5, 10], ["", 9.0, 1], ["cart", 2.0, 5], ["cart", 3.0, 5]],
        )
    )
    assert callable(of)
    assert of("shop") == Reading(value=1.5, samples=10)  # names compared without case
    assert of("SHOP") == Reading(value=1.5, samples=10)
    assert of("cart") == Reading(error="the query returned 2 rows for workload cart: summarize by it")
    assert of("crm") == Reading()  # no row: no data for that workload only
    assert of("none") == Reading()  # rows of no workload (no role name) are nobody's, not a workload `none`'s


class Refusal(Exception):
    def __init__(self, message: str, status: int | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status_code = status
        self.response = SimpleNamespace(headers=headers) if headers is not None else None


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "5"}, 5.0),
        ({"retry-after": " 2.5 "}, 2.5),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date gone by: at once
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After-Ms": "1500"}, 1.5),
        ({"x-ms-retry-after-ms": "250"}, 0.25),
        ({"x-ms-retry-after-ms": "nan"}, None),
        ({"Retry-After": "", "retry-after-ms": "100"}, 0.1),
        ({}, None),
    ],
)
def test_retry_after_is_seconds_from_the_headers_azure_core_reads(headers, seconds):
    assert retry_after(Refusal("throttled", 429, headers)) == seconds


def test_retry_after_of_a_future_date_is_the_time_until_it():
    wait = retry_after(Refusal("throttled", 429, {"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"}))
    assert wait is not None and wait > 365 * 24 * 3600
    assert retry_after(Refusal("x")) is None  # no response at all
    assert retry_after(ValueError("no response attribute either")) is None


def test_throttled_is_429_or_529():
    assert [throttled(Refusal("x", s)) for s in (429, 529, 500, None)] == [True, True, False, False]


def test_a_refusal_is_its_status_and_the_first_line_of_its_message_cut_at_300():
    assert error(Refusal("Too many requests\nmore", 429)) == "HTTP 429: Too many requests"
    assert error(Refusal("timed out")) == "Refusal: timed out"
    assert error(Refusal("", 500)) == "HTTP 500: "
    assert error(Refusal("x" * 400, 500)) == "HTTP 500: " + "x" * 290
    sdk = HttpResponseError(message="Bad request\ndetails")
    assert error(sdk) == "HttpResponseError: Bad request"


class Source:
    def __init__(self, fail: Exception | None = None, calls: int = 1):
        self.fail, self.calls, self.asked = fail, calls, []

    def read_many(self, release, asking, budget):
        self.asked.append((release, [(w, [c.name for c in group]) for w, group, _, _ in asking], budget))
        if self.fail:
            raise self.fail
        return {w: {c.name: Reading(value=1.0, samples=len(w)) for c in group} for w, group, _, _ in asking}


def check(name: str, provider: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, provider=provider)


def test_each_provider_reads_its_checks_of_every_workload_at_once_and_a_failing_one_is_no_data():
    local = Source(calls=2)
    logs = Source(RuntimeError("  workspace not found \nsecond line"), calls=3)
    built: list[str] = []

    def factory(name, source):
        return lambda: built.append(name) or source

    sources = MetricsSources({"local": factory("local", local), "azure-monitor-logs": factory("logs", logs)})
    assert sources.calls == 0
    requests = [
        ("shop", [check("errors", "local"), check("p95", "azure-monitor-logs")], T0, T0),
        ("cart", [check("errors", "local")], T0, T0),
    ]
    got = sources.read_many("wave-1", requests, budget="budget")
    assert got == {
        "shop": {"errors": Reading(1.0, 4), "p95": Reading(error="RuntimeError: workspace not found ")},
        "cart": {"errors": Reading(1.0, 4)},
    }
    assert local.asked == [("wave-1", [("shop", ["errors"]), ("cart", ["errors"])], "budget")]
    assert logs.asked == [("wave-1", [("shop", ["p95"])], "budget")]
    assert sources.read("wave-2", "cart", [check("errors", "local")], T0, T0) == {"errors": Reading(1.0, 4)}
    assert local.asked[-1] == ("wave-2", [("cart", ["errors"])], None)
    assert built == ["local", "logs"]  # each built once
    assert sources.calls == 5


def test_a_source_failing_without_a_message_names_the_failure_and_a_long_one_is_cut():
    sources = MetricsSources({"local": lambda: Source(KeyError()), "x": lambda: Source(ValueError("v" * 400))})
    got = sources.read_many("r", [("w", [check("a", "local"), check("b", "x")], T0, T0)])
    assert got == {"w": {"a": Reading(error="KeyError: "), "b": Reading(error="ValueError: " + "v" * 288)}}
    assert sources.read("r", "w", [], T0, T0) == {}
