"""`azure-monitor-logs`: a KQL query on a Log Analytics workspace through LogsQueryClient (azure-monitor-query),
over the evaluation window. The query's first row must have the columns `value` and `samples`.

A partial result, an error, a throttled call (429 beyond the SDK's short retries, which honour Retry-After)
or a timeout is a Reading with the error: inconclusive, never healthy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.domain.health import Reading

SERVER_TIMEOUT = 30  # seconds the service may spend on a query
CLIENT_OPTIONS = {
    "retry_total": 2,
    "retry_backoff_factor": 0.5,
    "retry_backoff_max": 4,
    "connection_timeout": 5,
    "read_timeout": SERVER_TIMEOUT + 5,
}


class LogsSource:
    def __init__(self, settings: Any, options: dict | None = None):
        from azure.monitor.query import LogsQueryClient

        from shared.adapters.routing._arm import credential
        from shared.application.config import cloud, monitor_logs_endpoint

        # the token's audience is the configured cloud's, wherever the endpoint points (the SDK's default
        # audience is the endpoint itself)
        self.client = LogsQueryClient(
            credential(settings),
            endpoint=monitor_logs_endpoint(settings),
            audience=cloud(settings).logs_audience,
            **{**CLIENT_OPTIONS, **(options or {})},
        )
        self.calls = 0

    def read(self, release: str, workload: str, checks: list, start: datetime, end: datetime) -> dict[str, Reading]:
        return {check.name: self._one(check, start, end) for check in checks}

    def _one(self, check: Any, start: datetime, end: datetime) -> Reading:
        from azure.core.exceptions import AzureError
        from azure.monitor.query import LogsQueryStatus

        self.calls += 1
        try:
            result = self.client.query_workspace(
                check.workspace, check.query, timespan=(start, end), server_timeout=SERVER_TIMEOUT
            )
        except AzureError as exc:
            return Reading(error=_error(exc))
        if result.status != LogsQueryStatus.SUCCESS:  # partial data is not trusted: it may hide the failures
            partial = getattr(result, "partial_error", None)
            details = "; ".join(
                str(d.get("message"))
                for d in (getattr(partial, "details", None) or [])
                if hasattr(d, "get") and d.get("message")
            )
            return Reading(
                error=f"partial result: {getattr(partial, 'message', partial)}{f' ({details})' if details else ''}"[
                    :300
                ]
            )
        return _reading(result.tables)


def _reading(tables: list) -> Reading:
    if not tables or not tables[0].rows:
        return Reading()  # an empty result: no data
    table = tables[0]
    columns = [c.lower() if isinstance(c, str) else str(c).lower() for c in table.columns]
    if "value" not in columns or "samples" not in columns:
        return Reading(error=f"the query must return columns value and samples, it returned {', '.join(columns)}")
    row = table.rows[0]
    value, samples = row[columns.index("value")], row[columns.index("samples")]
    try:
        return Reading(value=None if value is None else float(value), samples=None if samples is None else int(samples))
    except (TypeError, ValueError):
        return Reading(error=f"value {value!r} / samples {samples!r} are not numbers")


def _error(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    text = str(getattr(exc, "message", None) or exc).strip().splitlines()
    head = f"HTTP {status}" if status else type(exc).__name__
    return f"{head}: {text[0] if text else ''}"[:300]
