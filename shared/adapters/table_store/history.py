"""History as read: a workload's own entries and its entries of release-wide decisions (kept, deflated, in the
decision's one release-level entry), merged in time order; and a message's outcome from its marker."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from azure.data.tables import TableClient

from shared.adapters.properties import quote, when
from shared.adapters.table_store.rows import history_of
from shared.adapters.table_store.shards import unpacked
from shared.domain.model import HistoryEntry, Outcome


def entry_from_json(doc: Mapping[str, Any]) -> HistoryEntry:
    """A HistoryEntry from its to_json() form."""
    return HistoryEntry(
        at=datetime.fromisoformat(doc["at"].replace("Z", "+00:00")),
        event_id=doc["event_id"],
        type=doc["type"],
        outcome=Outcome(doc["outcome"]),
        reason=doc["reason"],
        workload=doc.get("workload"),
        from_state=doc.get("from"),
        to_state=doc.get("to"),
        traffic_percent=doc.get("traffic_percent"),
        actor=doc.get("actor"),
        flight=doc.get("flight"),
        source=doc.get("source"),
        actor_reason=doc.get("actor_reason"),
    )


def _rows(table: TableClient, name: str, low: str, high: str) -> list:
    query = f"PartitionKey eq '{quote(name)}' and RowKey ge '{low}' and RowKey lt '{high}'"
    return sorted(table.query_entities(query, results_per_page=1000), key=lambda r: r["RowKey"])


def expand(row: Mapping[str, Any], workload: str | None) -> list[HistoryEntry]:
    """A release-level row as entries: a release-wide decision's row is its workloads' entries of it."""
    moves = unpacked(row, "moves") if row.get("moves") else None
    if moves is None:
        return [history_of(row)] if workload is None else []
    return [entry_from_json(doc) for doc in moves if workload is None or doc.get("workload") == workload]


def list_history(table: TableClient, name: str, workload: str | None = None) -> list[HistoryEntry]:
    """Oldest first. Entries of one decision share its instant and keep their order."""
    if workload is not None:
        own = [history_of(r) for r in _rows(table, name, f"h.{workload}.", f"h.{workload}/")]
        wide = [e for r in _rows(table, name, "h.~.", "h.~/") for e in expand(r, workload)]
    else:
        rows = _rows(table, name, "h.", "h/")
        own = [history_of(r) for r in rows if not r["RowKey"].startswith("h.~.")]
        wide = [e for r in rows if r["RowKey"].startswith("h.~.") for e in expand(r, None)]
    return sorted([*own, *wide], key=lambda e: e.at)


def marker_outcome(marker: Mapping[str, Any]) -> HistoryEntry | None:
    """A message's outcome as its marker keeps it (None: a marker written before markers kept outcomes)."""
    if not marker.get("outcome"):
        return None
    return HistoryEntry(
        at=when(marker["at"]),
        event_id=marker.get("event_id", ""),
        type=marker.get("type", ""),
        outcome=Outcome(marker["outcome"]),
        reason=marker.get("reason", ""),
        workload=marker.get("workload") or None,
        from_state=None,
        to_state=None,
        traffic_percent=None,
    )
