"""A dead letter whose record has room for its reason and none of its body (local_queue.poison_record): the body
is kept empty, with its size and digest, never one byte over the record's budget."""

from __future__ import annotations

import hashlib
import json

from shared.adapters.local_queue import poison_record
from tests.fakes import T0

BODY = b"abcdef" * 40  # longer than a digest: the whole body does not fit where an empty one does
EMPTY = {
    "reason": "r",
    "dead_lettered_at": "2026-11-26T22:00:00Z",
    "delivery_count": 1,
    "body_encoding": "utf-8",
    "body": "",
    "body_truncated": True,
    "body_bytes": 240,
    "body_sha256": hashlib.sha256(BODY).hexdigest(),
}


def test_a_record_with_room_for_no_body_byte_keeps_none():
    room = len(json.dumps(EMPTY, separators=(",", ":")).encode())
    assert poison_record(BODY, "r", delivery_count=1, at=T0, max_record_bytes=room) == EMPTY
    assert poison_record(BODY, "r", delivery_count=1, at=T0, max_record_bytes=room + 1) == {**EMPTY, "body": "a"}
