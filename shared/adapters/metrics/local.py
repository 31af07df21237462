"""The `local` health provider: values put with `promote metrics put`, one row per (release, workload, check)
in the local stack's table. The latest value put is the reading (runs, tests and the demo feed it)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from azure.data.tables import TableClient, UpdateMode

from shared.domain.health import Reading


def _row(workload: str, check: str) -> str:
    return f"{workload}.{check}"  # names are [a-z0-9-]: '.' cannot occur in either


class LocalMetrics:
    def __init__(self, table: TableClient):
        self.table = table
        self.calls = 0

    def put(self, release: str, workload: str, check: str, value: float, samples: int, at: datetime) -> None:
        if not math.isfinite(value):
            raise ValueError("value must be a finite number")
        if samples < 0:
            raise ValueError("samples cannot be negative")
        # A measurement, not promote's state: the latest value replaces the previous one.
        self.table.upsert_entity(
            {
                "PartitionKey": release,
                "RowKey": _row(workload, check),
                "value": float(value),
                "samples": int(samples),
                "at": at,
            },
            mode=UpdateMode.REPLACE,
        )

    def read(self, release: str, workload: str, checks: list, start: datetime, end: datetime) -> dict[str, Reading]:
        self.calls += 1
        quoted = release.replace("'", "''")
        rows = self.table.query_entities(
            f"PartitionKey eq '{quoted}' and RowKey ge '{workload}.' and RowKey lt '{workload}/'"
        )
        return _readings({r["RowKey"]: r for r in rows}, workload, checks)

    def read_many(self, release: str, requests: list, budget: Any = None) -> dict[str, dict[str, Reading]]:
        """One range query for the release's values, whatever the number of workloads asking."""
        if len(requests) == 1:
            workload, checks, start, end = requests[0]
            return {workload: self.read(release, workload, checks, start, end)}
        self.calls += 1
        quoted = release.replace("'", "''")
        rows = {r["RowKey"]: r for r in self.table.query_entities(f"PartitionKey eq '{quoted}'")}
        return {workload: _readings(rows, workload, checks) for workload, checks, _, _ in requests}


def _readings(rows: dict[str, Any], workload: str, checks: list) -> dict[str, Reading]:
    readings = {}
    for check in checks:
        row = rows.get(_row(workload, check.name))
        readings[check.name] = Reading(value=row["value"], samples=row["samples"]) if row else Reading()
    return readings
