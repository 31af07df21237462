"""A release's routing progress on Table Storage (shared/application/routing_progress.py): one small row in the
release's partition of the releases table, RowKey `p.routing`, replaced whole by each write.

It sits apart from every row a decision reads or commits (the release record `s`, the shards `s.f.*` and `w.*`,
history `h.*`, markers `m.*`, the outbox `o.*`; none of their queries' key ranges holds `p.`), so writing it
never changes an ETag a commit is guarded by, and a reader gets it with one point read. Written without a
condition: a release has one move under way at a time (its messages are one session), and the last write wins.
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.adapters.properties import when
from shared.domain.progress import RoutingProgress

PROGRESS_ROW = "p.routing"


def _entity(release: str, p: RoutingProgress) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "PartitionKey": release,
        "RowKey": PROGRESS_ROW,
        "done": p.done,
        "total": p.total,
        "writes_done": p.writes_done,
        "writes": p.writes,
        "started_at": p.started_at,
        "at": p.at,
        "forecast_s": float(p.forecast_s),
    }
    if p.took_s is not None:
        entity["took_s"] = float(p.took_s)
    if p.failed:
        entity["failed"] = True
    return entity


class TableRoutingProgress:
    def __init__(self, table: TableClient):
        self.table = table

    def record(self, release: str, progress: RoutingProgress) -> None:
        self.table.upsert_entity(_entity(release, progress), mode=UpdateMode.REPLACE)

    def read(self, release: str) -> RoutingProgress | None:
        try:
            row = self.table.get_entity(release, PROGRESS_ROW)
        except ResourceNotFoundError:
            return None
        took = row.get("took_s")
        return RoutingProgress(
            done=row["done"],
            total=row["total"],
            writes_done=row["writes_done"],
            writes=row["writes"],
            started_at=when(row["started_at"]),
            at=when(row["at"]),
            forecast_s=float(row["forecast_s"]),
            took_s=None if took is None else float(took),
            failed=bool(row.get("failed")),
        )
