"""`azure-monitor-logs`: KQL on a Log Analytics workspace through LogsQueryClient (azure-monitor-query), over the
evaluation window: ONE query per release, check and window for every workload judged in a round.

A query that returns a `workload` column (`summarize value = ..., samples = ... by workload = cloud_RoleName`)
gives each workload its own row; a workload without a row has no data (that workload only). A query without
that column measures the release as a whole: its first row is every workload's reading. Columns `value` and
`samples` are required either way.

At most LOGS_CONCURRENT queries run at once and every query is counted against the Log Analytics budget first
(shared/application/monitor_budget.py). A throttled call (429, whose Retry-After the budget then keeps) is a
`throttled` reading: the evaluation waits for a later round. A partial result, an error or a timeout is a
Reading with the error: inconclusive, never healthy."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from shared.adapters.metrics._calls import error, retry_after, retry_policy, throttled
from shared.domain.health import Reading
from shared.domain.query_budget import LOGS_CONCURRENT

SERVER_TIMEOUT = 30  # seconds the service may spend on a query
CLIENT_OPTIONS = {
    "retry_total": 2,
    "retry_backoff_factor": 0.5,
    "retry_backoff_max": 4,
    "connection_timeout": 5,
    "read_timeout": SERVER_TIMEOUT + 5,
}
WORKLOAD_COLUMN = "workload"


class LogsSource:
    def __init__(self, settings: Any, options: dict | None = None):
        from azure.monitor.query import LogsQueryClient

        from shared.adapters.routing._arm import credential
        from shared.application.config import cloud, monitor_logs_endpoint

        options = {**CLIENT_OPTIONS, **(options or {})}
        # the token's audience is the configured cloud's, wherever the endpoint points (the SDK's default
        # audience is the endpoint itself)
        self.client = LogsQueryClient(
            credential(settings),
            endpoint=monitor_logs_endpoint(settings),
            audience=cloud(settings).logs_audience,
            retry_policy=retry_policy(options),
            **options,
        )
        self.calls = 0
        self._lock = threading.Lock()

    def read(self, release: str, workload: str, checks: list, start: datetime, end: datetime) -> dict[str, Reading]:
        return self.read_many(release, [(workload, checks, start, end)]).get(workload, {})

    def read_many(self, release: str, requests: list, budget: Any = None) -> dict[str, dict[str, Reading]]:
        """One query per (workspace, query, window) over every workload asking it."""
        groups: dict[tuple, list[tuple[str, Any]]] = {}
        for workload, checks, start, end in requests:
            for check in checks:
                groups.setdefault((check.workspace.lower(), check.query, start, end), []).append((workload, check))
        out: dict[str, dict[str, Reading]] = {w: {} for w, *_ in requests}
        sent: list[tuple[tuple, Any]] = []
        with ThreadPoolExecutor(max_workers=LOGS_CONCURRENT, thread_name_prefix="logs") as pool:
            for key, asking in groups.items():
                wait = budget.take("logs", release) if budget else 0.0
                if wait:  # over the budget: not sent, the evaluation waits
                    held = Reading(error="held back: Log Analytics query budget", throttled=True, retry_after=wait)
                    for workload, check in asking:
                        out[workload][check.name] = held
                    continue
                sent.append((key, pool.submit(self._query, asking[0][1], key[2], key[3], budget)))
            for key, future in sent:
                answer = future.result()
                for workload, check in groups[key]:
                    out[workload][check.name] = answer(workload) if callable(answer) else answer
        return out

    def _query(self, check: Any, start: datetime, end: datetime, budget: Any) -> Any:
        """The query's answer: a Reading for every workload, or a function workload -> Reading."""
        from azure.core.exceptions import AzureError
        from azure.monitor.query import LogsQueryStatus

        wait = budget.blocked("logs") if budget else 0.0
        if wait:  # a query of this read came back 429 while this one waited for a slot: not sent
            return Reading(
                error="held back: Log Analytics answered 429 (Retry-After)", throttled=True, retry_after=wait
            )
        with self._lock:
            self.calls += 1
        try:
            result = self.client.query_workspace(
                check.workspace, check.query, timespan=(start, end), server_timeout=SERVER_TIMEOUT
            )
        except AzureError as exc:
            if throttled(exc):
                wait = budget.throttled("logs", retry_after(exc)) if budget else retry_after(exc)
                return Reading(error=error(exc), throttled=True, retry_after=wait)
            return Reading(error=error(exc))
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
        return _readings(result.tables)


def _readings(tables: list) -> Any:
    if not tables or not tables[0].rows:
        return Reading()  # an empty result: no data
    table = tables[0]
    columns = [c.lower() if isinstance(c, str) else str(c).lower() for c in table.columns]
    if "value" not in columns or "samples" not in columns:
        return Reading(error=f"the query must return columns value and samples, it returned {', '.join(columns)}")
    if WORKLOAD_COLUMN not in columns:
        return _reading(table.rows[0], columns)  # the release as a whole
    rows: dict[str, list] = {}
    for row in table.rows:
        name = row[columns.index(WORKLOAD_COLUMN)]
        if name is None or name == "":
            continue  # data of no workload (no role name): never a workload's, whatever its name (`none`, ...)
        rows.setdefault(str(name).lower(), []).append(row)

    def of(workload: str) -> Reading:
        found = rows.get(workload.lower())
        if not found:
            return Reading()  # this workload had no data in the window
        if len(found) > 1:
            return Reading(error=f"the query returned {len(found)} rows for workload {workload}: summarize by it")
        return _reading(found[0], columns)

    return of


def _reading(row: list, columns: list[str]) -> Reading:
    value, samples = row[columns.index("value")], row[columns.index("samples")]
    try:
        return Reading(value=None if value is None else float(value), samples=None if samples is None else int(samples))
    except (TypeError, ValueError):
        return Reading(error=f"value {value!r} / samples {samples!r} are not numbers")


_error = error  # the name platform.py and older callers import
