"""The board's reads on the releases table: every release from its record and its shards' summaries (one
query, whatever the number of workloads), a release's overview and a page of its workloads (pages.py), and
the newest history of the page's workloads."""

from __future__ import annotations

from datetime import datetime

from shared.adapters.table_store import history as hist
from shared.adapters.table_store.pages import PageReads, overview_of
from shared.adapters.table_store.rows import RELEASE_ROW
from shared.domain.model import HistoryEntry, Release


class BoardReads(PageReads):
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
            overview = overview_of(record, rows)
            out.append((overview.release, overview.last_change))
        return out

    def newest(self, name: str, workloads: list[str], limit: int, before: datetime | None = None) -> list[HistoryEntry]:
        """The newest `limit` entries of these workloads and of the release itself (older than `before`), newest
        first: one request a workload and one for the release, whatever the history's length."""
        return hist.newest(self.table, name, workloads, limit, before)
