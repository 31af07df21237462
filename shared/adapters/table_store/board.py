"""The board's reads on the releases table (bounded: a fixed number of requests whatever the history length)."""

from __future__ import annotations

from datetime import datetime

from azure.data.tables import TableClient

from shared.adapters.properties import quote, when
from shared.adapters.table_store.rows import RELEASE_ROW, history_of, release_of, workload_of
from shared.domain.model import HistoryEntry, Release


def _last_change(rows: list) -> datetime | None:
    stamps = [r.metadata.get("timestamp") for r in rows if r.metadata.get("timestamp")]
    return when(max(stamps)) if stamps else None


class BoardReads:
    """The board's reads on the same table: every release in one query, a release's recent history in one
    key-range query per workload (paged by sequence number, so the cost never grows with the history)."""

    def __init__(self, table: TableClient):
        self.table = table

    def list_release_summaries(self) -> list[tuple[Release, datetime | None]]:
        """Every release with its workloads, and when any of its rows last changed: ONE query (paged)."""
        partitions: dict[str, list] = {}
        for row in self.table.query_entities("RowKey ge 's' and RowKey lt 't'", results_per_page=1000):
            partitions.setdefault(row["PartitionKey"], []).append(row)
        out = []
        for name in sorted(partitions):
            rows = partitions[name]
            head = next((r for r in rows if r["RowKey"] == RELEASE_ROW), None)
            if head is None:  # a partition whose release row is not there (yet): not a release
                continue
            workloads = {w.name: w for w in (workload_of(r) for r in rows if r["RowKey"] != RELEASE_ROW)}
            release = release_of(head, workloads, partial=True).evolve(seen=())  # the ids seen are not the board's
            out.append((release, _last_change(rows)))
        return out

    def history_window(self, name: str, workloads: list[str], low: int, high: int) -> list[HistoryEntry]:
        """Entries with low <= seq < high of these workloads and of the release itself, oldest first.
        One key-range query per workload (at most high - low rows in all): bounded by the window."""
        numbered: list[tuple[int, HistoryEntry]] = []
        for prefix in [*workloads, "~"]:
            rows = self.table.query_entities(
                f"PartitionKey eq '{quote(name)}' and RowKey ge 'h.{prefix}.{low:010d}' "
                f"and RowKey lt 'h.{prefix}.{high:010d}'",
                results_per_page=1000,
            )
            numbered.extend((r["seq"], history_of(r)) for r in rows)
        return [entry for _, entry in sorted(numbered, key=lambda pair: pair[0])]
