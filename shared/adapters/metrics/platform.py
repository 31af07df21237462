"""`azure-monitor-metrics`: platform metrics through MetricsClient (azure-monitor-querymetrics, the metrics client
of the current SDK), i.e. the regional metrics batch API (`metrics:getBatch`).

One call per (subscription, region, namespace) covers every metric check of those resources in one evaluation:
the API takes several resources and several metric names at once. The window's one-minute points are folded
into the check's aggregation; `samples` is the number of raw samples behind them (the Count aggregation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.domain.health import Reading

CLIENT_OPTIONS = {
    "retry_total": 2,
    "retry_backoff_factor": 0.5,
    "retry_backoff_max": 4,
    "connection_timeout": 5,
    "read_timeout": 30,
}
_FIELD = {"Average": "average", "Minimum": "minimum", "Maximum": "maximum", "Total": "total", "Count": "count"}


class PlatformMetricsSource:
    def __init__(self, settings: Any, options: dict | None = None):
        self.settings, self.options = settings, {**CLIENT_OPTIONS, **(options or {})}
        self._clients: dict[str, Any] = {}
        self.calls = 0

    def _client(self, region: str) -> Any:
        if region not in self._clients:
            from azure.monitor.querymetrics import MetricsClient

            from shared.adapters.routing._arm import credential
            from shared.application.config import cloud, monitor_metrics_endpoint

            self._clients[region] = MetricsClient(
                monitor_metrics_endpoint(self.settings, region),
                credential(self.settings),
                audience=cloud(self.settings).metrics_audience,  # the SDK's default is the public cloud's
                **self.options,
            )
        return self._clients[region]

    def read(self, release: str, workload: str, checks: list, start: datetime, end: datetime) -> dict[str, Reading]:
        groups: dict[tuple[str, str, str], list] = {}
        for check in checks:
            groups.setdefault((check.subscription.lower(), check.region, check.namespace.lower()), []).append(check)
        readings: dict[str, Reading] = {}
        for group in groups.values():
            readings.update(self._batch(group, start, end))
        return readings

    def _batch(self, checks: list, start: datetime, end: datetime) -> dict[str, Reading]:
        from azure.core.exceptions import AzureError

        from shared.adapters.metrics.logs import _error

        resources = list(dict.fromkeys(c.resource for c in checks))
        names = list(dict.fromkeys(c.metric for c in checks))
        aggregations = list(dict.fromkeys([c.aggregation for c in checks] + ["Count"]))
        self.calls += 1
        try:
            results = self._client(checks[0].region).query_resources(
                resource_ids=resources,
                metric_namespace=checks[0].namespace,
                metric_names=names,
                timespan=(start, end),
                aggregations=aggregations,
            )
        except AzureError as exc:
            error = _error(exc)
            return {c.name: Reading(error=error) for c in checks}
        series: dict[tuple[str, str], list] = {}
        for result in results:
            for metric in result.metrics:
                # a metric's id is <resource id>/providers/Microsoft.Insights/metrics/<name>
                resource = (metric.id or "").lower().split("/providers/microsoft.insights/metrics/")[0]
                points = [p for ts in metric.timeseries for p in ts.data]
                series[(resource, (metric.name or "").lower())] = points
        return {c.name: fold(series.get((c.resource.lower(), c.metric.lower())), c.aggregation) for c in checks}


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
