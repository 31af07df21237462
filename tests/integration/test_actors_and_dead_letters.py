"""On a real Azurite: nothing promote sends expires, large non-ASCII dead letters fit the queue, and
actor_reason / who paused survive the table store."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta

import pytest

from shared.adapters.local_queue import QUEUE_MESSAGE_BYTES, poison_record
from shared.application.config import LOCAL_QUEUE, POISON_QUEUE
from shared.domain.plan import validate_plan
from shared.local.cli import local_host
from tests.fakes import T0, event
from tests.integration.test_localhost import flight_plan, poison


def test_nothing_promote_sends_locally_expires(stack, release_name):
    stack.publisher.publish(json.loads(event("tests-passed", release_name, "web", "p1")))
    stack.local_scheduler.schedule(
        json.loads(event("tests-passed", release_name, "web", "t1")), stack.clock.now() + timedelta(seconds=0)
    )
    stack.dead_letters.dead_letter(b"{not json", "invalid")
    sent = stack.queue(LOCAL_QUEUE).peek_messages(max_messages=32) + stack.queue(POISON_QUEUE).peek_messages(
        max_messages=32
    )
    assert len(sent) == 3
    assert all(m.expires_on.year == 9999 for m in sent), [m.expires_on for m in sent]  # never (was: 7 days)


@pytest.mark.parametrize("char", ["é", "€", "😀", "\x7f"])
def test_a_poison_record_fits_a_queue_message_whatever_the_body(char):
    body = (char * 40_000).encode()  # 40,000 to 160,000 bytes, escaped by JSON up to 12 bytes a character
    record = poison_record(body, "invalid message: not JSON", delivery_count=1, at=T0)
    sent = json.dumps(record, separators=(",", ":")).encode()
    assert len(sent) <= QUEUE_MESSAGE_BYTES
    assert record["body_truncated"] and record["body_bytes"] == len(body)
    assert record["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert body.decode().startswith(record["body"]) and len(record["body"]) > 1000  # cut between characters


def test_a_large_non_ascii_dead_letter_does_not_hang_the_host(stack, release_name):
    stack.service.apply(validate_plan(flight_plan(release_name)))
    stack.queue(LOCAL_QUEUE).send_message("é" * 12_000)  # 24 KB of UTF-8, not JSON: dead-lettered
    stack.publisher.publish(json.loads(event("asset-replicated", release_name, "web", "after", asset="vm-1")))
    host = local_host(stack)
    done = threading.Event()
    outcome: dict = {}

    def run() -> None:
        outcome["stats"] = host.run(until_idle=True, wait=0.2, poll=0.05, outage_limit=5)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(60), "promote run --until-idle hung on the dead letter"
    [letter] = poison(stack)
    assert letter["body_truncated"] and letter["body_bytes"] == 24_000 and "not JSON" in letter["reason"]
    assert stack.store.get_release(release_name).release.workloads["web"].state == "testing"  # others go on


def test_actor_reason_and_the_pause_survive_the_table_store(stack, release_name):
    stack.service.apply(validate_plan(flight_plan(release_name)))
    words = "CAB freeze — change CHG-0042 ✓"
    stack.service.handle(
        event("override", release_name, "web", "o1", action="pause", actor="Ops@Contoso.com", reason=words)
    )
    [entry] = stack.store.list_history(release_name, "web")
    assert (entry.actor, entry.actor_reason) == ("Ops@Contoso.com", words)
    w = stack.store.get_release(release_name).release.workloads["web"]
    assert (w.paused, w.paused_by, w.paused_reason) == (True, "Ops@Contoso.com", words)
    assert w.paused_at is not None and w.paused_at.tzinfo is not None
    stack.service.handle(
        event("override", release_name, "web", "o2", action="resume", actor="ops@contoso.com", reason="lifted")
    )
    w = stack.store.get_release(release_name).release.workloads["web"]
    assert (w.paused, w.paused_by, w.paused_at, w.paused_reason) == (False, None, None, None)
