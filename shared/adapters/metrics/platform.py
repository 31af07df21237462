"""`azure-monitor-metrics`: platform metrics through MetricsClient (azure-monitor-querymetrics, the metrics client
of the current SDK), i.e. the regional metrics batch API (`metrics:getBatch`).

One call per (subscription, region, namespace, window) and 50 resources covers every metric check of those
resources in one round, over all the release's workloads: the API takes up to 50 resources and several metric
names at once. A throttled call (429 or 529) is a `throttled` reading, waited out in a later round. The
window's one-minute points are folded into the check's aggregation; `samples` is the number of raw samples
behind them (the Count aggregation)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from shared.adapters.metrics._calls import error, retry_after, retry_policy, throttled
from shared.domain.health import Reading
from shared.domain.query_budget import METRICS_BATCH, chunks

CLIENT_OPTIONS = {
    "retry_total": 2,
    "retry_backoff_factor": 0.5,
    "retry_backoff_max": 4,
    "connection_timeout": 5,
    "read_timeout": 30,
}
METRICS_CONCURRENT = 8  # batch calls in flight at once (no documented limit; Azure suggests parallel calls)
_FIELD = {"Average": "average", "Minimum": "minimum", "Maximum": "maximum", "Total": "total", "Count": "count"}


class PlatformMetricsSource:
    def __init__(self, settings: Any, options: dict | None = None):
        self.settings, self.options = settings, {**CLIENT_OPTIONS, **(options or {})}
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.calls = 0
        self.batch_sizes: list[int] = []  # resources per call, in call order (figures for the bench)

    def _client(self, region: str) -> Any:
        with self._lock:
            if region not in self._clients:
                from azure.monitor.querymetrics import MetricsClient

                from shared.adapters.routing._arm import credential
                from shared.application.config import cloud, monitor_metrics_endpoint

                self._clients[region] = MetricsClient(
                    monitor_metrics_endpoint(self.settings, region),
                    credential(self.settings),
                    audience=cloud(self.settings).metrics_audience,  # the SDK's default is the public cloud's
                    retry_policy=retry_policy(self.options),
                    **self.options,
                )
            return self._clients[region]

    def read(self, release: str, workload: str, checks: list, start: datetime, end: datetime) -> dict[str, Reading]:
        return self.read_many(release, [(workload, checks, start, end)]).get(workload, {})

    def read_many(self, release: str, requests: list, budget: Any = None) -> dict[str, dict[str, Reading]]:
        """Per (subscription, region, namespace, window), the resources of every workload asking, in calls of at
        most METRICS_BATCH resources each."""
        groups: dict[tuple, list[tuple[str, Any]]] = {}
        for workload, checks, start, end in requests:
            for check in checks:
                # one subscription, region and resource type per call (Azure's batching restrictions)
                key = (
                    check.subscription.lower(),
                    check.region,
                    _type(check.resource),
                    check.namespace.lower(),
                    start,
                    end,
                )
                groups.setdefault(key, []).append((workload, check))
        out: dict[str, dict[str, Reading]] = {w: {} for w, *_ in requests}
        calls: list[tuple[list, datetime, datetime]] = []
        for (*_, start, end), asking in groups.items():
            by_resource: dict[str, list] = {}
            for item in asking:
                by_resource.setdefault(item[1].resource.lower(), []).append(item)
            for resources in chunks(by_resource, METRICS_BATCH):
                calls.append(([item for r in resources for item in by_resource[r]], start, end))
        pending = []
        with ThreadPoolExecutor(max_workers=METRICS_CONCURRENT, thread_name_prefix="metrics") as pool:
            for items, start, end in calls:
                wait = budget.take("metrics") if budget else 0.0
                if wait:  # Monitor said 429 and its Retry-After has not passed: not sent
                    held = Reading(error="held back: metrics throttled (Retry-After)", throttled=True, retry_after=wait)
                    for workload, check in items:
                        out[workload][check.name] = held
                    continue
                pending.append((items, pool.submit(self._batch, [c for _, c in items], start, end, budget)))
            for items, future in pending:
                readings = future.result()
                for (workload, check), reading in zip(items, readings, strict=True):
                    out[workload][check.name] = reading
        return out

    def _batch(
        self, checks: list, start: datetime, end: datetime, budget: Any, splits: list[int] | None = None
    ) -> list[Reading]:
        """One metrics:getBatch call: a Reading per check, in order. Azure refuses a batch as a whole (400) when
        one of its metrics or resources is wrong: the batch is then read in halves, down to the culprit, so one
        workload's mistake leaves the others' readings alone (`splits`: the calls this batch may still spend)."""
        from azure.core.exceptions import AzureError

        resources = list({c.resource.lower(): c.resource for c in checks}.values())
        names = list(dict.fromkeys(c.metric for c in checks))
        aggregations = list(dict.fromkeys([c.aggregation for c in checks] + ["Count"]))
        wait = budget.blocked("metrics") if budget else 0.0
        if wait:  # another call came back 429 while this one waited for a slot: not sent
            return [
                Reading(error="held back: metrics throttled (Retry-After)", throttled=True, retry_after=wait)
            ] * len(checks)
        with self._lock:
            self.calls += 1
            self.batch_sizes.append(len(resources))
        try:
            results = self._client(checks[0].region).query_resources(
                resource_ids=resources,
                metric_namespace=checks[0].namespace,
                metric_names=names,
                timespan=(start, end),
                aggregations=aggregations,
            )
        except AzureError as exc:
            if throttled(exc):
                wait = budget.throttled("metrics", retry_after(exc)) if budget else retry_after(exc)
                return [Reading(error=error(exc), throttled=True, retry_after=wait)] * len(checks)
            if getattr(exc, "status_code", None) == 400 and len(resources) > 1:
                splits = [2 * len(resources).bit_length() + 2] if splits is None else splits
                if splits[0] >= 2:
                    splits[0] -= 2
                    return self._halves(checks, resources, start, end, budget, splits)
            return [Reading(error=error(exc))] * len(checks)
        series: dict[tuple[str, str], list] = {}
        for result in results:
            for metric in result.metrics:
                # a metric's id is <resource id>/providers/Microsoft.Insights/metrics/<name>
                resource = (metric.id or "").lower().split("/providers/microsoft.insights/metrics/")[0]
                points = [p for ts in metric.timeseries for p in ts.data]
                series[(resource, (metric.name or "").lower())] = points
        # a resource missing from the answer has no data: that workload's check only
        return [fold(series.get((c.resource.lower(), c.metric.lower())), c.aggregation) for c in checks]

    def _halves(
        self, checks: list, resources: list[str], start: datetime, end: datetime, budget: Any, splits: list[int]
    ) -> list[Reading]:
        """`checks` read in two batches, each of half the resources; the readings in the order of `checks`."""
        first = {r.lower() for r in resources[: len(resources) // 2]}
        out: list[Reading] = [Reading()] * len(checks)
        for side in (True, False):
            at = [i for i, c in enumerate(checks) if (c.resource.lower() in first) == side]
            readings = self._batch([checks[i] for i in at], start, end, budget, splits)
            for i, reading in zip(at, readings, strict=True):
                out[i] = reading
        return out


def _type(resource: str) -> str:
    """A resource id's type (microsoft.compute/virtualmachines): a batch holds resources of one type."""
    parts = resource.lower().split("/providers/", 1)[1].split("/")
    return "/".join([parts[0]] + parts[1::2])


def fold(points: list | None, aggregation: str) -> Reading:
    """The window's points -> one value in the check's aggregation, and the raw samples behind it."""
    if points is None:
        return Reading(error="the response has no such metric for this resource")
    field = _FIELD[aggregation]
    values = [(getattr(p, field), getattr(p, "count", None)) for p in points if getattr(p, field) is not None]
    if not values:
        return Reading(samples=0)  # no data in the window
    counts = [c for _, c in values if c is not None]
    samples = int(sum(counts)) if counts else len(values)
    numbers = [v for v, _ in values]
    if aggregation == "Average":
        weighted = [(v, c) for v, c in values if c]
        value = (
            sum(v * c for v, c in weighted) / sum(c for _, c in weighted) if weighted else sum(numbers) / len(numbers)
        )
    elif aggregation == "Minimum":
        value = min(numbers)
    elif aggregation == "Maximum":
        value = max(numbers)
    else:  # Total, Count
        value = sum(numbers)
    return Reading(value=float(value), samples=samples)
