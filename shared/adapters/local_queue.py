"""The local transport on Azurite queues: publish, schedule (visibility delay) and dead-letter."""

from __future__ import annotations

import base64
import hashlib
import json
import math
from datetime import UTC, datetime, timedelta

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient
from azure.storage.queue import QueueClient

MAX_DELAY_SECONDS = 7 * 24 * 3600 - 60  # a queue message can be invisible for at most 7 days
# A queue message expires after 7 days unless sent with time_to_live=-1: a long bake's timer, an event
# waiting out an outage or a poison record must never vanish, so everything promote sends never expires.
NEVER_EXPIRES = -1


def _schedule_key(event_id: str) -> str:
    return hashlib.sha256(event_id.encode()).hexdigest()


class QueuePublisher:
    def __init__(self, queue: QueueClient):
        self.queue = queue

    def publish(self, event: dict) -> None:
        self.queue.send_message(json.dumps(event, separators=(",", ":")), time_to_live=NEVER_EXPIRES)


class QueueScheduler:
    """Delays a message with the queue's visibility timeout, and notes its due time so that
    `promote run --until-idle` knows a timer is still to come (queues cannot peek at invisible messages)."""

    def __init__(self, queue: QueueClient, schedule: TableClient, clock):
        self.queue, self.schedule_table, self.clock = queue, schedule, clock

    def schedule(self, event: dict, due: datetime) -> None:
        delay = min(MAX_DELAY_SECONDS, max(0, math.ceil((due - self.clock.now()).total_seconds())))
        # The note first: a crash between the two leaves a note (cleaned once stale), never an unnoticed timer.
        self.schedule_table.upsert_entity(
            {"PartitionKey": "local", "RowKey": _schedule_key(event["id"]), "event_id": event["id"], "due": due}
        )
        self.queue.send_message(
            json.dumps(event, separators=(",", ":")), visibility_timeout=delay, time_to_live=NEVER_EXPIRES
        )

    def delivered(self, event_id: str) -> None:
        try:
            self.schedule_table.delete_entity("local", _schedule_key(event_id))
        except ResourceNotFoundError:
            pass

    def pending_due(self, stale_after: timedelta = timedelta(minutes=2)) -> list[datetime]:
        """Due times of timers not delivered yet; notes long overdue are stale (their message went) and dropped."""
        now, dues = self.clock.now(), []
        for row in self.schedule_table.query_entities("PartitionKey eq 'local'"):
            due = row["due"].replace(tzinfo=UTC) if row["due"].tzinfo is None else row["due"]
            if due < now - stale_after:
                self.delivered(row["event_id"])
            else:
                dues.append(due)
        return sorted(dues)


QUEUE_MESSAGE_BYTES = 64 * 1024  # a queue message holds at most 64 KiB of UTF-8 text
MAX_DEAD_LETTER_REASON = 4_000


def _serialise(record: dict) -> str:
    return json.dumps(record, separators=(",", ":"))


def _text_prefix(body: bytes, limit: int) -> tuple[str, str, int]:
    """The first bytes of `body` (at most `limit`) as text: UTF-8 cut at a character boundary, else base64."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        kept = body[:limit]
        return base64.b64encode(kept).decode(), "base64", len(kept)
    end = min(limit, len(body))
    while 0 < end < len(body) and body[end] & 0xC0 == 0x80:  # never cut a character in two
        end -= 1
    return body[:end].decode("utf-8"), "utf-8", end


def poison_record(
    body: bytes,
    reason: str,
    *,
    delivery_count: int | None,
    at: datetime,
    keep_bytes: int = 32 * 1024,
    max_record_bytes: int | None = QUEUE_MESSAGE_BYTES,
) -> dict:
    """What a dead letter keeps: the body (text, or base64 if not UTF-8), why, and, for a body too large for
    the store, its first bytes with its size and digest. The record is sized in bytes as it is sent (JSON
    escapes a non-ASCII character as up to 12 bytes), so it always fits `max_record_bytes`."""

    def record_of(limit: int) -> dict:
        text, encoding, kept = _text_prefix(body, limit)
        record = {
            "reason": reason[:MAX_DEAD_LETTER_REASON],
            "dead_lettered_at": at.isoformat().replace("+00:00", "Z"),
            "delivery_count": delivery_count,
            "body_encoding": encoding,
            "body": text,
        }
        if kept < len(body):
            record.update(body_truncated=True, body_bytes=len(body), body_sha256=hashlib.sha256(body).hexdigest())
        return record

    def fits(record: dict) -> bool:
        return max_record_bytes is None or len(_serialise(record).encode("utf-8")) <= max_record_bytes

    low, high = 0, min(keep_bytes, len(body))
    if fits(record_of(high)):
        return record_of(high)
    while low < high:  # the most body bytes whose record still fits
        mid = (low + high + 1) // 2
        low, high = (mid, high) if fits(record_of(mid)) else (low, mid - 1)
    return record_of(low)


class QueueDeadLetters:
    """Locally, dead letters go to `promotion-events-poison` with their reason."""

    def __init__(self, poison: QueueClient, clock):
        self.poison, self.clock = poison, clock

    def dead_letter(self, body: bytes, reason: str, delivery_count: int | None = None) -> None:
        record = poison_record(body, reason, delivery_count=delivery_count, at=self.clock.now())
        self.poison.send_message(_serialise(record), time_to_live=NEVER_EXPIRES)


class TableDeadLetters:
    """On Azure, a message that cannot be handled is recorded here with its reason before it is completed."""

    def __init__(self, table: TableClient, clock):
        self.table, self.clock = table, clock

    def dead_letter(self, body: bytes, reason: str, delivery_count: int | None = None) -> None:
        now = self.clock.now()
        record = poison_record(
            body, reason, delivery_count=delivery_count, at=now, keep_bytes=20_000, max_record_bytes=None
        )
        digest = hashlib.sha256(body).hexdigest()
        # Keyed by the body's digest: a redelivered dead letter is the same row, not a second one.
        self.table.upsert_entity(
            {
                "PartitionKey": now.strftime("%Y-%m-%d"),
                "RowKey": digest,
                "reason": reason[:4000],
                "body": record["body"],
                "body_encoding": record["body_encoding"],
                "body_bytes": len(body),
                "body_truncated": bool(record.get("body_truncated")),
                "at": now,
            }
        )
