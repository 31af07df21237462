"""The notification outbox on Table Storage, in each release's partition.

Row keys:  o.p.<key>  pending      o.s.<key>  sent      o.f.<key>  failed (gave up; still listed)
<key> is the commit's instant and its message's digest (outbox_key), so keys are unique and ordered by time.
The pending row is created inside the release's own commit transaction (see table_store.commit);
a status change deletes the old row and creates the new one in one transaction, guarded by the ETag.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from shared.adapters.properties import chunks, quote, unchunk, when
from shared.application.ports import OutboxItem
from shared.domain.errors import ConflictError

STATUS_PREFIX = {"pending": "o.p.", "sent": "o.s.", "failed": "o.f."}
_STATUS_OF = {v: k for k, v in STATUS_PREFIX.items()}
MAX_ERROR = 500


def _chunked(name: str, value: Any) -> dict[str, Any]:
    """JSON over as many properties as it needs, with their count: a release-wide rollback of 48 workloads
    carries 48 notices, more than one property holds."""
    return chunks(name, json.dumps(value, separators=(",", ":")))


def _unchunked(entity: Any, name: str) -> Any:
    return json.loads(unchunk(entity, name))


def outbox_key(now: datetime, digest: str) -> str:
    """Unique per committed message and ordered by time: the commit's instant and the message's digest."""
    return f"{int(now.timestamp() * 1000):013d}.{digest}"


def outbox_entity(release: str, key: str, notices: list, targets: list[dict], now: datetime) -> dict[str, Any]:
    """The pending row a commit writes (notices are shared.domain.notices.Notice)."""
    return {
        "PartitionKey": release,
        "RowKey": f"{STATUS_PREFIX['pending']}{key}",
        **_chunked("notices", [n.to_json() for n in notices]),
        **_chunked("targets", targets),
        "sent": "[]",
        "attempts": 0,
        "next_attempt": now,
        "created_at": now,
    }


def _item(entity: Any) -> OutboxItem:
    row = entity["RowKey"]
    return OutboxItem(
        release=entity["PartitionKey"],
        key=row[4:],
        status=_STATUS_OF[row[:4]],
        notices=_unchunked(entity, "notices"),
        targets=_unchunked(entity, "targets"),
        sent=frozenset(_unchunked(entity, "sent") if entity.get("sent") else []),
        attempts=entity.get("attempts", 0),
        next_attempt=when(entity["next_attempt"]),
        last_error=entity.get("last_error"),
        version=entity.metadata["etag"],
    )


class TableOutbox:
    def __init__(self, table: TableClient):
        self.table = table

    def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        # Across partitions: only pending rows match the key range, and the time filter drops the ones
        # still backing off. Oldest first within a release; releases in key order.
        query = (
            f"RowKey ge '{STATUS_PREFIX['pending']}' and RowKey lt 'o.p/' and "
            f"next_attempt le datetime'{now.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}'"
        )
        items = []
        for entity in self.table.query_entities(query, results_per_page=min(limit, 1000)):
            items.append(_item(entity))
            if len(items) >= limit:
                break
        return items

    def record(
        self,
        item: OutboxItem,
        *,
        sent: frozenset[str],
        status: str,
        attempts: int,
        next_attempt: datetime,
        last_error: str | None,
    ) -> None:
        entity: dict[str, Any] = {
            "PartitionKey": item.release,
            "RowKey": STATUS_PREFIX[status] + item.key,
            **_chunked("notices", item.notices),
            **_chunked("targets", item.targets),
            **_chunked("sent", sorted(sent)),
            "attempts": attempts,
            "next_attempt": next_attempt,
        }
        if last_error:
            entity["last_error"] = last_error[:MAX_ERROR]
        old_key = STATUS_PREFIX[item.status] + item.key
        guard = {"etag": item.version, "match_condition": MatchConditions.IfNotModified}
        if status == item.status:
            operations: list[tuple] = [("update", entity, {"mode": UpdateMode.REPLACE, **guard})]
        else:
            operations = [("delete", {"PartitionKey": item.release, "RowKey": old_key}, guard), ("create", entity)]
        try:
            self.table.submit_transaction(operations)
        except TableTransactionError as exc:
            if exc.status_code in (404, 409, 412):
                raise ConflictError(f"outbox {item.release}/{item.key}: changed by another deliverer") from None
            raise

    def list_release(self, release: str) -> list[OutboxItem]:
        rows = self.table.query_entities(f"PartitionKey eq '{quote(release)}' and RowKey ge 'o.' and RowKey lt 'o/'")
        return sorted((_item(r) for r in rows), key=lambda i: i.key)
