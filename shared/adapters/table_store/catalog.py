"""Every release at once, for lists (`promote releases`, the board, `promote halt`): each release's record and
its shards' summaries, ONE query (paged) whatever the number of releases and workloads. An archived release
(v3 §19) stays in storage and is left out unless asked for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.data.tables import TableClient

from shared.adapters.table_store.pages import Overview, overview_of
from shared.adapters.table_store.rows import RELEASE_ROW

# When `promote archive` hid the release, on its record (with archived_by, archived_reason). Not the record's
# `archive` / `archived`: those are the Bloom filter of message ids pushed out of its window.
ARCHIVED_AT = "archived_at"


def is_archived(record: Mapping[str, Any]) -> bool:
    return record.get(ARCHIVED_AT) is not None


def overviews(table: TableClient, *, archived: bool = False) -> list[Overview]:
    """Every release by name from its record and summaries; `archived`: the archived ones too."""
    partitions: dict[str, list] = {}
    for row in table.query_entities("RowKey ge 's' and RowKey lt 's/'", results_per_page=1000):
        partitions.setdefault(row["PartitionKey"], []).append(row)
    out = []
    for name in sorted(partitions):
        rows = partitions[name]
        record = next((r for r in rows if r["RowKey"] == RELEASE_ROW), None)
        if record is None:  # a partition whose release record is not there (yet): not a release
            continue
        if archived or not is_archived(record):
            out.append(overview_of(record, rows))
    return out
