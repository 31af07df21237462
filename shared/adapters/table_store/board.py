"""The board's reads on the releases table: every release from its record and its shards' summaries (one
query, whatever the number of workloads), a release's overview and a page of its workloads (pages.py), and
the newest history of the page's workloads."""

from __future__ import annotations

from datetime import datetime

from shared.adapters.table_store import history as hist
from shared.adapters.table_store.catalog import overviews
from shared.adapters.table_store.pages import PageReads
from shared.domain.model import HistoryEntry, Release


class BoardReads(PageReads):
    def list_release_summaries(self) -> list[tuple[Release, datetime | None]]:
        """Every release but the archived ones, its workloads as their shards' summaries tell them (state, pause,
        share, flight), and when any of those rows last changed: ONE query (paged) over every release's record and
        summaries."""
        return [(o.release, o.last_change) for o in overviews(self.table)]

    def newest(self, name: str, workloads: list[str], limit: int, before: datetime | None = None) -> list[HistoryEntry]:
        """The newest `limit` entries of these workloads and of the release itself (older than `before`), newest
        first: one request a workload and one for the release, whatever the history's length."""
        return hist.newest(self.table, name, workloads, limit, before)
