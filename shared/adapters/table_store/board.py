"""The board's reads on the releases table: every release from its record and its shards' summaries (one
query, whatever the number of workloads), and a release's history."""

from __future__ import annotations

from datetime import datetime

from azure.data.tables import TableClient

from shared.adapters.properties import when
from shared.adapters.table_store import history as hist
from shared.adapters.table_store.layout import Read
from shared.adapters.table_store.rows import RELEASE, RELEASE_ROW, plan_of
from shared.adapters.table_store.shards import summary_workloads
from shared.domain.model import HistoryEntry, Release


def _last_change(rows: list) -> datetime | None:
    stamps = [r.metadata.get("timestamp") for r in rows if r.metadata.get("timestamp")]
    return when(max(stamps)) if stamps else None


class BoardReads:
    def __init__(self, table: TableClient):
        self.table = table

    def list_release_summaries(self) -> list[tuple[Release, datetime | None]]:
        """Every release, its workloads as their shards' summaries tell them (state, pause, share, flight), and
        when any of those rows last changed: ONE query (paged) over every release's record and summaries."""
        partitions: dict[str, list] = {}
        for row in self.table.query_entities("RowKey ge 's' and RowKey lt 's/'", results_per_page=1000):
            partitions.setdefault(row["PartitionKey"], []).append(row)
        out = []
        for name in sorted(partitions):
            rows = partitions[name]
            record = next((r for r in rows if r["RowKey"] == RELEASE_ROW), None)
            if record is None:  # a partition whose release record is not there (yet): not a release
                continue
            summaries = Read.summaries_of(record, rows)
            workloads = {w.name: w for k in sorted(summaries) for w in summary_workloads(summaries[k].items)}
            plan = plan_of(record)
            fields = {**RELEASE.read(record), "seen": ()}  # the ids seen are not the board's
            release = Release(
                plan=plan,
                workloads={w.name: workloads[w.name] for w in plan.workloads if w.name in workloads},
                **fields,
            )
            out.append((release, _last_change(rows)))
        return out

    def newest(self, name: str, workloads: list[str], limit: int, before: datetime | None = None) -> list[HistoryEntry]:
        """The newest `limit` entries of these workloads and of the release itself (older than `before`), newest
        first: one request a workload and one for the release, whatever the history's length."""
        return hist.newest(self.table, name, workloads, limit, before)
