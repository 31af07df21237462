"""The local transport's writes read back from a real Azurite (shared/adapters/local_queue.py): what is sent
to the queues, the schedule notes and their staleness, and the dead-letter row Azure's host keeps."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import timedelta

import pytest

from shared.adapters.local_queue import QueueDeadLetters, QueuePublisher, QueueScheduler, TableDeadLetters
from shared.application.bootstrap import Stack
from shared.application.config import DEADLETTER_TABLE
from tests.fakes import T0, FakeClock


@pytest.fixture
def fresh(settings):
    """A Stack on a fake clock, and a queue and a table of this test's own (nothing else reads or empties them)."""
    stack = Stack(settings, clock=FakeClock(T0))
    suffix = uuid.uuid4().hex[:12]
    return stack, stack.queue(f"pin-q-{suffix}"), stack.table(f"pinschedule{suffix}")


def messages(queue) -> list:
    return list(queue.peek_messages(max_messages=32))


def test_a_published_event_is_compact_json_that_never_expires(fresh):
    stack, queue, _ = fresh
    QueuePublisher(queue).publish({"id": "e1", "type": "tests-passed", "data": {"release": "r", "n": [1, 2]}})
    [sent] = messages(queue)
    assert sent.content == '{"id":"e1","type":"tests-passed","data":{"release":"r","n":[1,2]}}'
    assert sent.expires_on.year == 9999


def test_a_timer_is_noted_by_its_id_digest_and_sent_invisible_until_due(fresh):
    stack, queue, table = fresh
    scheduler = QueueScheduler(queue, table, stack.clock)
    now_event = {"id": "timer-now", "type": "bake-done", "data": {}}
    later_event = {"id": "timer-later", "type": "bake-done", "data": {}}
    scheduler.schedule(now_event, T0)
    scheduler.schedule(later_event, T0 + timedelta(hours=1))

    [visible] = messages(queue)  # the one due later is invisible for now
    assert visible.content == '{"id":"timer-now","type":"bake-done","data":{}}'
    assert visible.expires_on.year == 9999
    rows = {row["RowKey"]: dict(row) for row in table.query_entities("PartitionKey eq 'local'")}
    later_key = hashlib.sha256(b"timer-later").hexdigest()
    assert rows == {
        hashlib.sha256(b"timer-now").hexdigest(): {
            "PartitionKey": "local",
            "RowKey": hashlib.sha256(b"timer-now").hexdigest(),
            "event_id": "timer-now",
            "due": T0,
        },
        later_key: {
            "PartitionKey": "local",
            "RowKey": later_key,
            "event_id": "timer-later",
            "due": T0 + timedelta(hours=1),
        },
    }
    assert scheduler.pending_due() == [T0, T0 + timedelta(hours=1)]

    scheduler.delivered("timer-now")
    scheduler.delivered("timer-now")  # twice: the note is gone, no error
    assert scheduler.pending_due() == [T0 + timedelta(hours=1)]
    assert [row["RowKey"] for row in table.query_entities("PartitionKey eq 'local'")] == [later_key]


def test_pending_due_drops_notes_overdue_by_more_than_two_minutes_and_sorts_the_rest(fresh):
    stack, queue, table = fresh
    scheduler = QueueScheduler(queue, table, stack.clock)
    dues = {
        "late": T0 + timedelta(minutes=5),
        "at-limit": T0 - timedelta(minutes=2),  # overdue by exactly two minutes: still pending
        "stale": T0 - timedelta(minutes=2, milliseconds=1),
        "soon": T0 + timedelta(seconds=1),
    }
    for event_id, due in dues.items():
        scheduler.schedule({"id": event_id, "type": "bake-done", "data": {}}, due)
    assert scheduler.pending_due() == [T0 - timedelta(minutes=2), T0 + timedelta(seconds=1), T0 + timedelta(minutes=5)]
    left = {row["event_id"] for row in table.query_entities("PartitionKey eq 'local'")}
    assert left == {"late", "at-limit", "soon"}  # the stale note is deleted, not only skipped

    # a shorter staleness of the caller's
    assert scheduler.pending_due(stale_after=timedelta(seconds=0)) == [
        T0 + timedelta(seconds=1),
        T0 + timedelta(minutes=5),
    ]
    assert {row["event_id"] for row in table.query_entities("PartitionKey eq 'local'")} == {"late", "soon"}


def test_a_local_dead_letter_is_its_record_on_the_poison_queue_and_never_expires(fresh):
    stack, queue, _ = fresh
    QueueDeadLetters(queue, stack.clock).dead_letter(b"{not json", "invalid message: not JSON", delivery_count=4)
    [sent] = messages(queue)
    assert json.loads(sent.content) == {
        "reason": "invalid message: not JSON",
        "dead_lettered_at": "2026-11-26T22:00:00Z",
        "delivery_count": 4,
        "body_encoding": "utf-8",
        "body": "{not json",
    }
    assert sent.content.startswith('{"reason":"invalid message: not JSON","dead_lettered_at"')  # compact
    assert sent.expires_on.year == 9999


def test_a_local_dead_letter_fits_the_queue_however_large_its_body(fresh):
    stack, queue, _ = fresh
    QueueDeadLetters(queue, stack.clock).dead_letter(b"\x01" * 30_000, "r")  # escaped: 180,000 bytes of JSON
    [sent] = messages(queue)
    record = json.loads(sent.content)
    assert record["delivery_count"] is None and record["body_truncated"] and record["body_bytes"] == 30_000
    assert 64 * 1024 - 6 < len(sent.content.encode()) <= 64 * 1024


def dead_letter_row(stack, body: bytes) -> dict:
    row = stack.table(DEADLETTER_TABLE).get_entity("2026-11-26", hashlib.sha256(body).hexdigest())
    return dict(row)


def test_an_azure_dead_letter_is_one_row_per_body_keyed_by_day_and_digest(settings):
    clock = FakeClock(T0 + timedelta(hours=1, minutes=59))  # 23:59 on the 26th
    stack = Stack(settings, clock=clock)
    body = f"not an event {uuid.uuid4().hex}".encode()
    letters = TableDeadLetters(stack.table(DEADLETTER_TABLE), clock)
    letters.dead_letter(body, "invalid message: not JSON", delivery_count=1)
    assert dead_letter_row(stack, body) == {
        "PartitionKey": "2026-11-26",
        "RowKey": hashlib.sha256(body).hexdigest(),
        "reason": "invalid message: not JSON",
        "body": body.decode(),
        "body_encoding": "utf-8",
        "body_bytes": len(body),
        "body_truncated": False,
        "at": T0 + timedelta(hours=1, minutes=59),
    }
    letters.dead_letter(body, "again", delivery_count=2)  # redelivered: the same row, replaced
    assert dead_letter_row(stack, body)["reason"] == "again"


def test_an_azure_dead_letter_keeps_20000_bytes_of_body_however_it_escapes_and_4000_of_reason(settings):
    stack = Stack(settings, clock=FakeClock(T0))
    head = uuid.uuid4().hex.encode()  # 32 bytes, new on every run
    at_limit = head + b"\x01" * (20_000 - len(head))  # JSON would escape it to ~120 KB: no record limit here
    letters = TableDeadLetters(stack.table(DEADLETTER_TABLE), stack.clock)
    letters.dead_letter(at_limit, "r" * 4001)
    row = dead_letter_row(stack, at_limit)
    assert row["body"] == at_limit.decode() and row["body_truncated"] is False and row["body_bytes"] == 20_000
    assert row["reason"] == "r" * 4000

    past = at_limit + b"\x02"
    letters.dead_letter(past, "r")
    row = dead_letter_row(stack, past)
    assert row["body"] == at_limit.decode() and row["body_truncated"] is True and row["body_bytes"] == 20_001


def test_an_azure_dead_letter_of_bytes_that_are_not_utf8_is_base64(settings):
    stack = Stack(settings, clock=FakeClock(T0))
    body = b"\xff\xfe" + uuid.uuid4().bytes
    TableDeadLetters(stack.table(DEADLETTER_TABLE), stack.clock).dead_letter(body, "not UTF-8")
    row = dead_letter_row(stack, body)
    assert (row["body_encoding"], row["body"], row["body_bytes"]) == ("base64", base64.b64encode(body).decode(), 18)
