"""The local Monitor enforces Azure's query budgets (Azure Monitor service limits, "User query throttling";
"How to migrate from the metrics API to the getBatch API"): 200 Log Analytics queries per caller in any 30 s
(429 with Retry-After beyond), 5 running at once with the rest queued (429 when the queue is full), and at most
50 unique resources per metrics batch call (400). The real SDK clients are the callers."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from azure.core.exceptions import HttpResponseError

from shared.adapters.metrics.logs import LogsSource
from shared.domain.health import Reading
from tests.fakes import FakeClock
from tests.monitor.test_monitor_sources import END, START, SUB, WS, answer, checks, logs_check, points


def test_more_than_200_queries_in_30_seconds_are_refused_with_retry_after(monitor, settings_monitor):
    clock = FakeClock()
    monitor.clock = lambda: clock.now().timestamp()
    monitor.workspace(WS, answer(0.2, 300))
    source = LogsSource(settings_monitor, {"retry_total": 0})
    for i in range(200):
        assert source.read("r", "w", checks(logs_check()), START, END)["error-rate"].error is None, i
        clock.advance(0.1)  # 200 queries in 20 s
    refused = source.read("r", "w", checks(logs_check()), START, END)["error-rate"]
    assert refused.throttled and refused.error.startswith("HTTP 429")
    assert refused.retry_after == 10  # the first query leaves the window 30 s after it was sent, 10 s from now
    assert monitor.throttled == {"rate": 1}
    clock.advance(10)
    assert source.read("r", "w", checks(logs_check()), START, END)["error-rate"].error is None


def test_five_queries_run_at_once_and_the_rest_wait_in_the_queue(monitor, settings_monitor):
    monitor.workspace(WS, answer(0.2, 300))
    monitor.logs_gate = threading.Event()
    source = LogsSource(settings_monitor, {"retry_total": 0})
    results = []

    def query():
        results.append(source.read("r", "w", checks(logs_check()), START, END)["error-rate"])

    threads = [threading.Thread(target=query) for _ in range(12)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while sum(monitor.max_in_flight.values()) < 12 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(monitor.running.values()) == [5] and list(monitor.queued.values()) == [7]
    monitor.logs_gate.set()
    for t in threads:
        t.join()
    assert all(r.error is None for r in results) and len(results) == 12  # queued, not refused
    assert list(monitor.max_running.values()) == [5]


def test_the_judges_logs_source_never_has_more_than_5_queries_in_flight(monitor, settings_monitor):
    monitor.workspace(WS, answer(0.2, 300))
    monitor.logs_gate = threading.Event()
    requests = [
        (f"w{i}", checks(logs_check(query=f"requests | where n == {i} | summarize value = 1, samples = 9")), START, END)
        for i in range(12)
    ]  # 12 different queries: 12 calls
    readings: dict = {}
    reader = threading.Thread(target=lambda: readings.update(LogsSource(settings_monitor).read_many("r", requests)))
    reader.start()
    deadline = time.monotonic() + 20
    while sum(monitor.running.values()) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)  # a source that sent more would have them queued by now
    assert list(monitor.max_in_flight.values()) == [5]
    monitor.logs_gate.set()
    reader.join()
    assert all(r["error-rate"] == Reading(value=0.2, samples=300) for r in readings.values()) and len(readings) == 12
    assert len(monitor.calls) == 12 and list(monitor.max_in_flight.values()) == [5]


def test_a_full_concurrency_queue_refuses_with_429(monitor, settings_monitor):
    monitor.workspace(WS, answer(0.2, 300))
    monitor.logs_queue, monitor.logs_gate = 2, threading.Event()  # the running queries hold until the gate opens
    source = LogsSource(settings_monitor, {"retry_total": 0})
    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(source.read("r", "w", checks(logs_check()), START, END)["error-rate"])
        )
        for _ in range(10)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(results) < 3 and time.monotonic() < deadline:  # 5 running + 2 queued: the other 3 are refused
        time.sleep(0.02)
    monitor.logs_gate.set()
    for t in threads:
        t.join()
    refused = [r for r in results if r.error]
    assert len(refused) == 3 and all(r.throttled and r.retry_after for r in refused)
    assert monitor.throttled == {"queue-full": 3} and len(results) == 10


@pytest.mark.parametrize("count, status", [(50, 200), (51, 400)])
def test_a_metrics_batch_reads_at_most_50_resources(monitor, settings_monitor, credential, count, status):
    from azure.monitor.querymetrics import MetricsClient

    ids = [
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-{i:03d}"
        for i in range(count)
    ]
    for rid in ids:
        monitor.resource(rid, "westeurope", {"Percentage CPU": points((40, 4))})
    client = MetricsClient(
        monitor.metrics_endpoint().format(region="westeurope"), credential, retry_total=0, connection_timeout=5
    )
    call = dict(
        resource_ids=ids,
        metric_namespace="Microsoft.Compute/virtualMachines",
        metric_names=["Percentage CPU"],
        timespan=(START, END - timedelta(seconds=0)),
    )
    if status == 200:
        assert len(client.query_resources(**call)) == count
    else:
        with pytest.raises(HttpResponseError) as refused:
            client.query_resources(**call)
        assert refused.value.status_code == 400 and "more than 50" in str(refused.value)
