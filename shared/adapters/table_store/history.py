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
    return list(table.query_entities(query, results_per_page=1000))


def expand(row: Mapping[str, Any], workloads: set[str] | None, *, own: bool = True) -> list[HistoryEntry]:
    """A release-level row as entries: a release-wide decision's row is its workloads' entries of it (of
    `workloads`, when given); a plain release-level entry is the release's own (`own`: kept)."""
    moves = unpacked(row, "moves") if row.get("moves") else None
    if moves is None:
        return [history_of(row)] if own else []
    return [entry_from_json(doc) for doc in moves if workloads is None or doc.get("workload") in workloads]


def ordered(rows: list, workloads: set[str] | None, *, own: bool = True) -> list[HistoryEntry]:
    """Entries of history rows, oldest first; one decision's entries keep their order. `own`: the release's
    own entries too."""
    keyed = []
    for row in rows:
        if row["RowKey"].startswith("h.~."):
            keyed += [(e.at, row["seq"], i, e) for i, e in enumerate(expand(row, workloads, own=own))]
        else:
            keyed.append((when(row["at"]), row["seq"], 0, history_of(row)))
    return [e for *_, e in sorted(keyed, key=lambda k: k[:3])]


def list_history(table: TableClient, name: str, workload: str | None = None) -> list[HistoryEntry]:
    """Oldest first: the workload's entries and its entries of release-wide decisions (no workload: all)."""
    if workload is None:
        return ordered(_rows(table, name, "h.", "h/"), None)
    rows = _rows(table, name, f"h.{workload}.", f"h.{workload}/") + _rows(table, name, "h.~.", "h.~/")
    return ordered(rows, {workload}, own=False)


def newest(
    table: TableClient, name: str, workloads: list[str], limit: int, before: datetime | None = None
) -> list[HistoryEntry]:
    """The newest `limit` entries (older than `before`) of these workloads and the release's own, newest first:
    ONE request a workload and one for the release, whatever the history's length (keys count down)."""
    rows = []
    when_filter = f" and at lt datetime'{before.isoformat().replace('+00:00', 'Z')}'" if before else ""
    for prefix in [*workloads, "~"]:
        query = f"PartitionKey eq '{quote(name)}' and RowKey ge 'h.{prefix}.' and RowKey lt 'h.{prefix}/'{when_filter}"
        page: Any = next(iter(table.query_entities(query, results_per_page=limit).by_page()), [])
        rows += list(page)
    entries = ordered(rows, set(workloads))
    entries = [e for e in entries if before is None or e.at < before]
    return entries[::-1][:limit]


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
