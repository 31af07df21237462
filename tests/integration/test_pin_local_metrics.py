"""The `local` health provider on a real Azurite (shared/adapters/metrics/local.py): the row a value is, the
range of rows a workload reads, the calls counted, and the values refused."""

from __future__ import annotations

import math
import uuid
from types import SimpleNamespace

import pytest

from shared.adapters.metrics.local import LocalMetrics
from shared.application.bootstrap import Stack
from shared.domain.health import Reading
from tests.fakes import T0


@pytest.fixture
def metrics(settings):
    return LocalMetrics(Stack(settings).table(f"pinmetrics{uuid.uuid4().hex[:12]}"))


def checks(*names: str) -> list:
    return [SimpleNamespace(name=n) for n in names]


def test_a_value_is_one_row_per_release_workload_and_check_the_latest_replacing_the_last(metrics):
    metrics.put("wave-1", "shop", "errors", 1, 10, T0)
    assert dict(metrics.table.get_entity("wave-1", "shop.errors")) == {
        "PartitionKey": "wave-1",
        "RowKey": "shop.errors",
        "value": 1.0,
        "samples": 10,
        "at": T0,
    }
    assert isinstance(metrics.table.get_entity("wave-1", "shop.errors")["value"], float)
    metrics.put("wave-1", "shop", "errors", 0.25, 0, T0)
    assert metrics.read("wave-1", "shop", checks("errors"), T0, T0) == {"errors": Reading(value=0.25, samples=0)}


@pytest.mark.parametrize(("value", "samples", "refusal"), [
    (math.nan, 1, "value must be a finite number"),
    (math.inf, 1, "value must be a finite number"),
    (-math.inf, 1, "value must be a finite number"),
    (1.0, -1, "samples cannot be negative"),
])  # fmt: skip
def test_values_that_are_no_measurement_are_refused(metrics, value, samples, refusal):
    with pytest.raises(ValueError) as error:
        metrics.put("wave-1", "shop", "errors", value, samples, T0)
    assert str(error.value) == refusal
    metrics.put("wave-1", "shop", "errors", -2.5, 0, T0)  # a negative value and no samples are measurements


def test_a_workload_reads_its_own_checks_only_one_call_each(metrics):
    for workload in ("shop", "shop-2", "shopx", "cart"):
        metrics.put("wave-1", workload, "errors", len(workload), 5, T0)
    metrics.put("wave-1", "shop", "p95", 120, 7, T0)
    metrics.put("wave-2", "shop", "errors", 99, 1, T0)
    assert metrics.read("wave-1", "shop", checks("errors", "p95", "cpu"), T0, T0) == {
        "errors": Reading(value=4.0, samples=5),
        "p95": Reading(value=120.0, samples=7),
        "cpu": Reading(),  # nothing put: no data
    }
    assert metrics.calls == 1
    one = metrics.read_many("wave-1", [("shop-2", checks("errors"), T0, T0)])
    assert one == {"shop-2": {"errors": Reading(value=6.0, samples=5)}} and metrics.calls == 2
    many = metrics.read_many("wave-1", [("shopx", checks("errors"), T0, T0), ("cart", checks("errors", "p95"), T0, T0)])
    assert many == {
        "shopx": {"errors": Reading(value=5.0, samples=5)},
        "cart": {"errors": Reading(value=4.0, samples=5), "p95": Reading()},
    }
    assert metrics.calls == 3  # one range query for the release, whatever the number of workloads


def test_a_release_name_with_a_quote_reads_its_own_rows(metrics):
    metrics.put("o'brien", "shop", "errors", 1, 1, T0)
    metrics.put("o'brien", "cart", "errors", 2, 1, T0)
    assert metrics.read("o'brien", "shop", checks("errors"), T0, T0) == {"errors": Reading(1.0, 1)}
    many = metrics.read_many("o'brien", [(w, checks("errors"), T0, T0) for w in ("shop", "cart")])
    assert many == {"shop": {"errors": Reading(1.0, 1)}, "cart": {"errors": Reading(2.0, 1)}}
