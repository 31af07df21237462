"""The notification outbox's rows on Azurite, written out in full (issue 21): the pending row a commit writes,
which rows are due (pending only, up to the moment, up to the limit), each status change (one row per
status, the ETag guarding it, the error text kept to 500 characters), and the local decommission record.
Each test works in partitions of its own (release_name); rows are due in 2000, long before anything other
tests write, and only this test's own partitions are asserted on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.decommission.local import LocalDecommissioner, row_key
from shared.adapters.outbox import TableOutbox, outbox_entity, outbox_key
from shared.application.bootstrap import Stack
from shared.application.config import ROUTING_TABLE
from shared.domain.errors import ConflictError
from shared.domain.finishing import DecommissionTarget
from shared.domain.machine import Decommission
from shared.domain.notices import Notice
from shared.domain.routing import Change

AT = datetime(2000, 1, 1, 0, 0, 10, tzinfo=UTC)
TARGETS = [{"kind": "webhook", "url_setting": "HOOK", "on": ["promoted"]}]


def notice(release: str, n: int = 1) -> Notice:
    return Notice(
        id=f"ntf-{n}",
        kind="promoted",
        release=release,
        workload="web",
        at=datetime(2000, 1, 1, tzinfo=UTC),
        event_id=f"m-{n}",
        state="promoted",
        traffic_percent=100,
        flight=None,
        reason=f"reason {n}",
    )


def notice_json(release: str, n: int = 1) -> dict:
    return {
        "id": f"ntf-{n}",
        "kind": "promoted",
        "release": release,
        "workload": "web",
        "at": "2000-01-01T00:00:00Z",
        "event_id": f"m-{n}",
        "state": "promoted",
        "traffic_percent": 100,
        "flight": None,
        "reason": f"reason {n}",
        "actor": None,
        "actor_reason": None,
    }


@pytest.fixture
def outbox(settings):
    stack = Stack(settings)
    table = stack.table("promoteoutboxpin")
    return TableOutbox(table)


def put(outbox: TableOutbox, release: str, key: str, next_attempt: datetime = AT, notices: int = 1) -> None:
    entity = outbox_entity(release, key, [notice(release, i) for i in range(1, notices + 1)], TARGETS, next_attempt)
    outbox.table.create_entity(entity)


def test_the_key_is_the_commits_millisecond_and_the_messages_digest():
    assert outbox_key(datetime(2026, 11, 26, 22, 0, 0, 123456, tzinfo=UTC), "d1g") == "1795730400123.d1g"
    assert outbox_key(datetime(1970, 1, 1, 0, 0, 5, tzinfo=UTC), "x") == "0000000005000.x"  # 13 digits: ordered


def test_the_pending_row_a_commit_writes():
    now = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
    assert outbox_entity("wave-1", "k1", [notice("wave-1")], TARGETS, now) == {
        "PartitionKey": "wave-1",
        "RowKey": "o.p.k1",
        "notices": (
            '[{"id":"ntf-1","kind":"promoted","release":"wave-1","workload":"web","at":"2000-01-01T00:00:00Z",'
            '"event_id":"m-1","state":"promoted","traffic_percent":100,"flight":null,"reason":"reason 1",'
            '"actor":null,"actor_reason":null}]'
        ),
        "notices_chunks": 1,
        "targets": '[{"kind":"webhook","url_setting":"HOOK","on":["promoted"]}]',
        "targets_chunks": 1,
        "sent": "[]",
        "attempts": 0,
        "next_attempt": now,
        "created_at": now,
    }


def test_a_pending_row_read_back(outbox, release_name):
    put(outbox, release_name, "0000000000001.a", notices=2)
    [item] = outbox.list_release(release_name)
    assert (item.release, item.key, item.status) == (release_name, "0000000000001.a", "pending")
    assert item.notices == [notice_json(release_name, 1), notice_json(release_name, 2)]
    assert (item.targets, item.sent, item.attempts) == (TARGETS, frozenset(), 0)
    assert (item.next_attempt, item.last_error) == (AT, None)
    assert item.next_attempt.tzinfo == UTC
    assert item.version


def test_due_are_the_pending_rows_up_to_the_moment(outbox, release_name):
    other = release_name + "-b"
    put(outbox, release_name, "0000000000001.a", AT - timedelta(microseconds=1))
    put(outbox, release_name, "0000000000002.b", AT)  # due at the moment itself
    put(outbox, release_name, "0000000000003.c", AT + timedelta(milliseconds=1))  # not yet
    put(outbox, other, "0000000000004.d", AT - timedelta(seconds=5))
    done = release_name + "-c"
    put(outbox, done, "0000000000005.e", AT - timedelta(seconds=5))
    [row] = outbox.list_release(done)
    outbox.record(row, sent=frozenset({"ntf-1@0"}), status="sent", attempts=1, next_attempt=AT, last_error=None)
    mine = {release_name, other, done}
    due = [(i.release, i.key) for i in outbox.due(AT, 1000) if i.release in mine]
    # oldest first within a release, releases in key order; a sent row is never due
    assert due == [
        (release_name, "0000000000001.a"),
        (release_name, "0000000000002.b"),
        (other, "0000000000004.d"),
    ]
    later = [(i.release, i.key) for i in outbox.due(AT + timedelta(milliseconds=1), 1000) if i.release in mine]
    assert (release_name, "0000000000003.c") in later


def test_due_stops_at_the_limit(outbox, release_name):
    for i in range(3):
        put(outbox, release_name, f"000000000000{i}.k", AT - timedelta(seconds=1))
    two = outbox.due(AT, 2)
    assert len(two) == 2
    assert [(i.release, i.key) for i in two] == sorted((i.release, i.key) for i in two)
    assert len(outbox.due(AT, 1)) == 1


def test_a_row_recorded_in_the_same_status_is_replaced_whole(outbox, release_name):
    put(outbox, release_name, "0000000000001.a")
    [item] = outbox.list_release(release_name)
    later = AT + timedelta(seconds=30)
    outbox.record(
        item, sent=frozenset({"ntf-1@0"}), status="pending", attempts=1, next_attempt=later, last_error="x" * 600
    )
    [again] = outbox.list_release(release_name)
    assert (again.status, again.sent, again.attempts, again.next_attempt) == (
        "pending",
        frozenset({"ntf-1@0"}),
        1,
        later,
    )
    assert again.last_error == "x" * 500  # what the outbox keeps of it
    assert again.notices == [notice_json(release_name)] and again.targets == TARGETS
    assert again.version != item.version
    outbox.record(again, sent=again.sent, status="pending", attempts=2, next_attempt=later, last_error=None)
    [third] = outbox.list_release(release_name)
    assert (third.last_error, third.attempts) == (None, 2)  # the earlier error is gone, not merged
    raw = outbox.table.get_entity(release_name, "o.p.0000000000001.a")
    assert "last_error" not in raw and "created_at" not in raw
    assert raw["sent"] == '["ntf-1@0"]' and raw["sent_chunks"] == 1


def test_an_error_of_exactly_500_characters_is_kept_whole(outbox, release_name):
    put(outbox, release_name, "0000000000001.a")
    [item] = outbox.list_release(release_name)
    outbox.record(item, sent=frozenset(), status="pending", attempts=1, next_attempt=AT, last_error="y" * 499 + "z")
    assert outbox.list_release(release_name)[0].last_error == "y" * 499 + "z"


def test_a_status_change_moves_the_row(outbox, release_name):
    put(outbox, release_name, "0000000000001.a")
    put(outbox, release_name, "0000000000002.b")
    first, second = outbox.list_release(release_name)
    sent = frozenset({"ntf-1@0", "ntf-2@0"})
    outbox.record(first, sent=sent, status="sent", attempts=3, next_attempt=AT, last_error=None)
    outbox.record(second, sent=frozenset(), status="failed", attempts=60, next_attempt=AT, last_error="#0 down")
    rows = {r["RowKey"] for r in outbox.table.query_entities(f"PartitionKey eq '{release_name}'")}
    assert rows == {"o.s.0000000000001.a", "o.f.0000000000002.b"}
    a, b = outbox.list_release(release_name)
    assert (a.key, a.status, a.sent, a.attempts) == ("0000000000001.a", "sent", sent, 3)
    assert (b.key, b.status, b.last_error, b.attempts) == ("0000000000002.b", "failed", "#0 down", 60)


@pytest.mark.parametrize("status", ["pending", "sent"])
def test_a_row_changed_by_another_deliverer_is_a_conflict(outbox, release_name, status):
    put(outbox, release_name, "0000000000001.a")
    [item] = outbox.list_release(release_name)
    outbox.record(item, sent=frozenset(), status="pending", attempts=1, next_attempt=AT, last_error="e")
    with pytest.raises(ConflictError) as caught:
        outbox.record(item, sent=frozenset(), status=status, attempts=1, next_attempt=AT, last_error=None)
    assert str(caught.value) == f"outbox {release_name}/0000000000001.a: changed by another deliverer"
    [now] = outbox.list_release(release_name)
    assert (now.status, now.last_error) == ("pending", "e")  # the other deliverer's record stands


def test_a_row_already_moved_is_a_conflict(outbox, release_name):
    put(outbox, release_name, "0000000000001.a")
    [item] = outbox.list_release(release_name)
    outbox.record(item, sent=frozenset(), status="failed", attempts=1, next_attempt=AT, last_error="e")
    with pytest.raises(ConflictError):
        outbox.record(item, sent=frozenset(), status="sent", attempts=1, next_attempt=AT, last_error=None)


def test_list_release_is_the_releases_outbox_rows_in_key_order(outbox, release_name):
    put(outbox, release_name, "0000000000002.b")
    put(outbox, release_name, "0000000000001.a")
    [first, _] = outbox.list_release(release_name)
    outbox.record(first, sent=frozenset({"ntf-1@0"}), status="sent", attempts=1, next_attempt=AT, last_error=None)
    outbox.table.create_entity({"PartitionKey": release_name, "RowKey": "p.other", "x": 1})  # not an outbox row
    outbox.table.create_entity({"PartitionKey": release_name, "RowKey": "n.other", "x": 1})
    put(outbox, release_name + "x", "0000000000000.z")  # another release
    assert [(i.key, i.status) for i in outbox.list_release(release_name)] == [
        ("0000000000001.a", "sent"),
        ("0000000000002.b", "pending"),
    ]


def test_many_notices_span_several_properties_and_read_back(outbox, release_name):
    put(outbox, release_name, "0000000000001.a", notices=200)  # well over one property's 30,000 characters
    raw = outbox.table.get_entity(release_name, "o.p.0000000000001.a")
    assert raw["notices_chunks"] > 1
    [item] = outbox.list_release(release_name)
    assert item.notices == [notice_json(release_name, i) for i in range(1, 201)]
    outbox.record(item, sent=frozenset(), status="pending", attempts=1, next_attempt=AT, last_error=None)
    assert outbox.list_release(release_name)[0].notices == item.notices


# ---- the local decommission record ---------------------------------------------------------------------------


def request(workload: str = "payroll", assets=("vm-payroll-web-01", "vm-payroll-db-01")) -> Decommission:
    return Decommission(workload, DecommissionTarget(provider="local"), assets, "ana@contoso.com", 0)


def test_the_local_source_is_recorded_off_once(settings, release_name):
    table = Stack(settings).table(ROUTING_TABLE)
    local = LocalDecommissioner(table)
    assert row_key("payroll") == "~decommission.payroll"
    assert local.is_off(release_name, "payroll") is False
    before = datetime.now(UTC)
    assert local.decommission(release_name, request()) == [
        Change(f"local source record {release_name}/payroll", "power", "on", "off")
    ]
    row = table.get_entity(release_name, "~decommission.payroll")
    assert {k: row[k] for k in ("state", "assets", "actor")} == {
        "state": "off",
        "assets": "vm-payroll-web-01,vm-payroll-db-01",
        "actor": "ana@contoso.com",
    }
    assert before - timedelta(seconds=1) <= row["at"] <= datetime.now(UTC) + timedelta(seconds=1)
    assert local.is_off(release_name, "payroll") is True
    assert local.decommission(release_name, request()) == []  # already off: nothing changed
    assert local.is_off(release_name, "other") is False


def test_a_record_that_says_anything_but_off_is_not_off(settings, release_name):
    table = Stack(settings).table(ROUTING_TABLE)
    table.create_entity({"PartitionKey": release_name, "RowKey": "~decommission.payroll", "state": "on"})
    local = LocalDecommissioner(table)
    assert local.is_off(release_name, "payroll") is False
    assert local.decommission(release_name, request()) == []  # a record is there: create, not upsert


def test_the_assets_are_kept_to_what_a_property_holds(settings, release_name):
    table = Stack(settings).table(ROUTING_TABLE)
    assets = tuple(f"vm-{i:05d}" for i in range(4000))  # 35,999 characters joined
    LocalDecommissioner(table).decommission(release_name, request(assets=assets))
    kept = table.get_entity(release_name, "~decommission.payroll")["assets"]
    assert kept == ",".join(assets)[:30_000] and len(kept) == 30_000


def test_a_row_whose_new_status_row_is_already_there_is_a_conflict(outbox, release_name):
    put(outbox, release_name, "0000000000001.a")
    [item] = outbox.list_release(release_name)
    outbox.table.create_entity({"PartitionKey": release_name, "RowKey": "o.s.0000000000001.a", "sent": "[]"})
    with pytest.raises(ConflictError) as caught:  # another deliverer's row (409): ours is not written
        outbox.record(item, sent=frozenset({"ntf-1@0"}), status="sent", attempts=1, next_attempt=AT, last_error=None)
    assert str(caught.value) == f"outbox {release_name}/0000000000001.a: changed by another deliverer"
    assert outbox.table.get_entity(release_name, "o.p.0000000000001.a")["attempts"] == 0  # the delete rolled back
