"""What a dead letter keeps (shared/adapters/local_queue.py poison_record): the exact record, the UTF-8 cut at a
character boundary, base64 for a body that is not UTF-8, and the byte budgets at and one past their limits."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.local_queue import QueueScheduler, poison_record
from tests.fakes import T0, FakeClock

AT = "2026-11-26T22:00:00Z"  # T0 as a dead letter shows it


def sent_bytes(record: dict) -> int:
    return len(json.dumps(record, separators=(",", ":")).encode())


def test_a_small_text_body_is_kept_whole_with_its_reason_time_and_count():
    record = poison_record(b'{"id":"x"', "invalid message: not JSON", delivery_count=3, at=T0)
    assert record == {
        "reason": "invalid message: not JSON",
        "dead_lettered_at": AT,
        "delivery_count": 3,
        "body_encoding": "utf-8",
        "body": '{"id":"x"',
    }


def test_the_time_keeps_its_microseconds_and_shows_utc_as_z():
    at = datetime(2026, 1, 2, 3, 4, 5, 60, tzinfo=UTC)
    record = poison_record(b"x", "r", delivery_count=None, at=at)
    assert record["dead_lettered_at"] == "2026-01-02T03:04:05.000060Z"
    assert record["delivery_count"] is None


def test_a_body_that_is_not_utf8_is_kept_as_base64():
    body = b"\xff\xfe\x00abc"
    record = poison_record(body, "not UTF-8", delivery_count=1, at=T0)
    assert record == {
        "reason": "not UTF-8",
        "dead_lettered_at": AT,
        "delivery_count": 1,
        "body_encoding": "base64",
        "body": "//4AYWJj",
    }


def test_a_binary_body_past_keep_bytes_keeps_its_first_bytes_in_base64_with_size_and_digest():
    body = b"\xff" + bytes(range(256)) * 2  # 513 bytes, not UTF-8
    record = poison_record(body, "r", delivery_count=2, at=T0, keep_bytes=6)
    assert record == {
        "reason": "r",
        "dead_lettered_at": AT,
        "delivery_count": 2,
        "body_encoding": "base64",
        "body": "/wABAgME",  # the first six bytes: ff 00 01 02 03 04
        "body_truncated": True,
        "body_bytes": 513,
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }


def test_the_reason_is_cut_at_4000_characters():
    assert poison_record(b"x", "r" * 4000, delivery_count=1, at=T0)["reason"] == "r" * 4000
    assert poison_record(b"x", "r" * 4001, delivery_count=1, at=T0)["reason"] == "r" * 4000


def test_a_body_of_exactly_keep_bytes_is_whole_and_one_byte_more_is_cut():
    whole = poison_record(b"abcdef", "r", delivery_count=1, at=T0, keep_bytes=6)
    assert whole == {
        "reason": "r",
        "dead_lettered_at": AT,
        "delivery_count": 1,
        "body_encoding": "utf-8",
        "body": "abcdef",
    }
    cut = poison_record(b"abcdefg", "r", delivery_count=1, at=T0, keep_bytes=6)
    assert cut == {
        "reason": "r",
        "dead_lettered_at": AT,
        "delivery_count": 1,
        "body_encoding": "utf-8",
        "body": "abcdef",
        "body_truncated": True,
        "body_bytes": 7,
        "body_sha256": hashlib.sha256(b"abcdefg").hexdigest(),
    }


def test_the_default_keeps_32_kib_of_the_body():
    at_limit = b"a" * 32 * 1024
    assert poison_record(at_limit, "r", delivery_count=1, at=T0)["body"] == at_limit.decode()
    past = poison_record(at_limit + b"b", "r", delivery_count=1, at=T0, max_record_bytes=None)
    assert past["body"] == at_limit.decode() and past["body_truncated"] and past["body_bytes"] == 32 * 1024 + 1


def test_a_cut_never_splits_a_character():
    body = "é".encode() * 10  # two bytes a character
    record = poison_record(body, "r", delivery_count=1, at=T0, keep_bytes=5)
    assert record["body"] == "éé" and record["body_truncated"] and record["body_bytes"] == 20
    assert poison_record(body, "r", delivery_count=1, at=T0, keep_bytes=4)["body"] == "éé"
    # a cut inside the first character keeps nothing of it
    assert poison_record("é".encode(), "r", delivery_count=1, at=T0, keep_bytes=1)["body"] == ""
    assert poison_record("€".encode(), "r", delivery_count=1, at=T0, keep_bytes=2)["body"] == ""


def test_a_record_too_large_keeps_the_most_body_that_still_fits_to_the_byte():
    body = b"a" * 1000
    empty = {
        "reason": "r",
        "dead_lettered_at": AT,
        "delivery_count": 1,
        "body_encoding": "utf-8",
        "body": "",
        "body_truncated": True,
        "body_bytes": 1000,
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    for limit in (400, 401, 517):
        record = poison_record(body, "r", delivery_count=1, at=T0, max_record_bytes=limit)
        kept = limit - sent_bytes(empty)  # ASCII: every byte of body is one byte of the record
        assert record == {**empty, "body": "a" * kept}
        assert sent_bytes(record) == limit


def test_the_default_record_fits_a_64_kib_queue_message():
    body = b"\x01" * 32 * 1024  # JSON writes each as \u0001: six bytes
    record = poison_record(body, "r", delivery_count=1, at=T0)
    assert 64 * 1024 - 6 < sent_bytes(record) <= 64 * 1024
    assert record["body_truncated"] and record["body_bytes"] == 32 * 1024


def test_without_a_record_limit_the_whole_keep_bytes_is_kept_however_it_escapes():
    body = b"\x01" * 40_000
    record = poison_record(body, "r", delivery_count=1, at=T0, keep_bytes=20_000, max_record_bytes=None)
    assert record["body"] == "\x01" * 20_000 and record["body_bytes"] == 40_000


class Queue:
    """A queue client as strict as Azure Queue Storage on what a send may ask: at most 64 KiB of text, a
    visibility timeout of 0 to 7 days, a time to live of -1 (never) or at least one second."""

    def __init__(self):
        self.sent: list[tuple[str, int | None, int | None]] = []

    def send_message(self, content: str, *, visibility_timeout: int | None = None, time_to_live: int | None = None):
        assert len(content.encode()) <= 64 * 1024
        assert visibility_timeout is None or (
            isinstance(visibility_timeout, int) and 0 <= visibility_timeout <= 604_800
        )
        assert time_to_live is None or time_to_live == -1 or time_to_live >= 1
        self.sent.append((content, visibility_timeout, time_to_live))


class Table:
    def __init__(self):
        self.rows: dict[tuple[str, str], dict] = {}

    def upsert_entity(self, entity: dict) -> None:
        self.rows[entity["PartitionKey"], entity["RowKey"]] = dict(entity)


@pytest.mark.parametrize(
    ("seconds_ahead", "delay"),
    [
        (0, 0),
        (-30, 0),  # overdue: at once
        (0.001, 1),  # rounded up: never delivered before it is due
        (1, 1),
        (1.5, 2),
        (7 * 24 * 3600 - 60, 604_740),
        (7 * 24 * 3600 - 59, 604_740),  # the queue's longest invisibility (less a minute); the note says when
        (30 * 24 * 3600, 604_740),
    ],
)
def test_a_timer_is_invisible_until_it_is_due_rounded_up_to_the_second(seconds_ahead, delay):
    queue, table = Queue(), Table()
    due = T0 + timedelta(seconds=seconds_ahead)
    QueueScheduler(queue, table, FakeClock(T0)).schedule({"id": "t1", "type": "bake-done"}, due)  # type: ignore[arg-type]
    assert queue.sent == [('{"id":"t1","type":"bake-done"}', delay, -1)]
    key = hashlib.sha256(b"t1").hexdigest()
    assert table.rows == {("local", key): {"PartitionKey": "local", "RowKey": key, "event_id": "t1", "due": due}}
