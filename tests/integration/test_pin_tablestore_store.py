"""The table store on a real Azurite, where no other in-process test looks: a message's outcome read from its
de-duplication marker (outcome_of), a shard read after another process changed the plan (the layout read
again), the release record's `seq` and archive marks as stored, and the errors an unknown release or a stale
snapshot gives."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading

import pytest
from azure.core.exceptions import ServiceResponseError

from shared.adapters.table_store import TableReleaseStore, marker_row
from shared.adapters.table_store.shards import unpacked
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE
from shared.application.release_list import archive
from shared.domain.errors import ConflictError, UnknownRelease
from shared.domain.model import HistoryEntry, Outcome
from shared.domain.plan import validate_plan
from tests.fakes import event
from tests.integration.test_release_shards import OPERATOR, plan, ready, rows
from tests.support.tables import NoCatchUp

ABORTED_FACTS = '{"states":{"aborted":2},"ready_unapproved":0,"ready":true,"ready_until":null}'


@pytest.fixture
def sharded(settings):
    return Stack(dataclasses.replace(settings, shard_size=2))  # six workloads: three shards


def digest_of(event_id: str) -> str:
    """A message id as a window of recent ids keeps it: its SHA-256, 16 hex digits."""
    return hashlib.sha256(event_id.encode()).hexdigest()[:16]


def other_store(stack: Stack) -> TableReleaseStore:
    """The same table as another process sees it: a store with nothing cached."""
    return TableReleaseStore(stack.table(RELEASES_TABLE), shard_size=2)


def test_a_messages_outcome_is_read_back_from_its_marker(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name)))
    assert sharded.service.handle(event("asset-replicated", release_name, "w3", "a-w3", asset="vm-w3")).outcome == (
        "applied"
    )
    [entry] = [e for e in sharded.store.list_history(release_name, "w3") if e.event_id == "a-w3"]
    store = other_store(sharded)
    assert store.outcome_of(release_name, "a-w3") == HistoryEntry(
        at=entry.at,
        event_id="a-w3",
        type="asset-replicated",
        outcome=Outcome.APPLIED,
        reason=entry.reason,
        workload="w3",
        from_state=None,
        to_state=None,
        traffic_percent=None,
    )
    assert entry.reason  # the decision's own words, kept on the marker too
    assert store.outcome_of(release_name, "never-sent") is None


def test_a_marker_without_an_outcome_tells_none(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name)))
    table = sharded.table(RELEASES_TABLE)
    table.create_entity({"PartitionKey": release_name, "RowKey": marker_row("old-1"), "event_id": "old-1"})
    assert other_store(sharded).outcome_of(release_name, "old-1") is None


def test_a_shard_read_after_another_process_amended_the_plan_reads_the_layout_again(sharded, release_name):
    original = validate_plan(plan(release_name, deadlines={"testing": "1h"}))
    sharded.service.apply(original)
    reader = other_store(sharded)
    assert reader.get_release(release_name).release.plan == original  # learns the layout (three shards)
    amended = validate_plan(plan(release_name, deadlines={"testing": "30m"}))
    assert sharded.service.apply(amended).action == "updated"  # by another process: the reader's layout is stale
    snapshot = reader.get_release(release_name, "w3", whole=False)
    assert snapshot.release.plan == amended
    assert list(snapshot.release.workloads) == ["w2", "w3"]  # its shard alone
    assert snapshot.one_scope is False and snapshot.version.shard == 1


def test_a_shard_read_of_a_release_whose_record_is_gone_names_the_release(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name, deadlines={"testing": "1h"})))
    reader = other_store(sharded)
    reader.get_release(release_name)
    sharded.service.apply(validate_plan(plan(release_name, deadlines={"testing": "30m"})))
    sharded.table(RELEASES_TABLE).delete_entity(release_name, "s")
    with pytest.raises(UnknownRelease) as raised:
        reader.get_release(release_name, "w3", whole=False)
    assert raised.value.release == release_name
    assert str(raised.value) == f"release {release_name!r} was never applied"


def test_the_summaries_of_an_unknown_release(sharded, release_name):
    with pytest.raises(UnknownRelease) as raised:
        sharded.store.summaries(release_name)
    assert raised.value.release == release_name


def test_each_release_level_entry_of_an_amend_takes_the_next_seq(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name, deadlines={"testing": "1h"})))
    assert rows(sharded, release_name)["s"]["seq"] == 0  # no release-level entry yet: the first is number 0
    sharded.service.apply(validate_plan(plan(release_name, deadlines={"testing": "30m"})))
    found = rows(sharded, release_name)
    assert found["s"]["seq"] == 1
    assert sorted(k for k in found if k.startswith("h.~.")) == ["h.~.9999999999"]
    assert found["h.~.9999999999"]["seq"] == 0
    sharded.service.apply(validate_plan(plan(release_name, deadlines={"testing": "20m"})))
    found = rows(sharded, release_name)
    assert found["s"]["seq"] == 2
    assert sorted(k for k in found if k.startswith("h.~.")) == ["h.~.9999999998", "h.~.9999999999"]
    assert [e.type for e in sharded.store.list_history(release_name) if e.workload is None] == [
        "plan-amended",
        "plan-amended",
    ]


def test_an_archive_stores_who_why_when_and_its_entrys_number_on_the_record(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name)))
    abort = event("override", release_name, None, "abort-1", action="abort", actor=OPERATOR, reason="cancelled")
    assert sharded.service.handle(abort).outcome == "applied"
    before = rows(sharded, release_name)["s"].get("seq", 0)
    now = sharded.clock.now()
    assert archive(sharded.store, release_name, OPERATOR, "wave closed", now) == ("aborted", True)
    found = rows(sharded, release_name)
    record = found["s"]
    assert (record["seq"], record["archived_by"], record["archived_reason"]) == (before + 1, OPERATOR, "wave closed")
    assert record["archived_at"] == now
    entry = found[f"h.~.{9_999_999_999 - before:010d}"]
    assert (entry["type"], entry["seq"], entry["actor"], entry["actor_reason"]) == (
        "archive",
        before,
        OPERATOR,
        "wave closed",
    )


def test_a_dependant_added_from_a_stale_snapshot_is_a_conflict_that_says_why(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name)))
    first, stale = sharded.store.get_release(release_name), other_store(sharded).get_release(release_name)
    sharded.store.add_dependant(first, "child-a")
    with pytest.raises(ConflictError) as raised:
        other_store(sharded).add_dependant(stale, "child-b")
    assert "UpdateConditionNotSatisfied" in str(raised.value)
    assert rows(sharded, release_name)["s"]["dependants"] == "child-a"


def test_a_lifted_halt_leaves_only_its_empty_by_on_the_row(sharded):
    store, table = sharded.store, sharded.table(RELEASES_TABLE)
    halt = {"by": OPERATOR, "reason": "incident 9", "at": "2026-11-26T22:00:00Z"}
    try:
        store.set_halt(halt)
        assert store.get_halt() == halt
        store.set_halt(None)
        # replaced, not merged: the lifted halt's reason and time are gone
        assert dict(table.get_entity("~promote", "halt")) == {"PartitionKey": "~promote", "RowKey": "halt", "by": ""}
        assert store.get_halt() is None
    finally:
        store.set_halt(None)


def test_a_release_wide_decisions_entry_keeps_who_and_how_many_moved(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name)))
    abort = event("override", release_name, None, "abort-1", action="abort", actor=OPERATOR, reason="cancelled")
    assert sharded.service.handle(abort).outcome == "applied"
    found = rows(sharded, release_name)
    assert found["s"]["seq"] == 1 and found["s"]["epoch"] == 1  # one release-level entry; the commit point's epoch
    entry = found["h.~.9999999999"]
    assert (entry["seq"], entry["type"], entry["event_id"], entry["outcome"]) == (0, "override", "abort-1", "applied")
    assert "workload" not in entry  # the release's own entry
    # a release-level message's id is kept in the release record's own window (its scope), not a shard's
    assert (found["s"]["seen"], found["s"]["processed"]) == (digest_of("abort-1"), 1)
    assert all("seen" not in found[f"w.{k:04d}"] for k in range(3))
    assert (entry["actor"], entry["source"], entry["actor_reason"], entry["moved"]) == (
        OPERATOR,
        "test",
        "cancelled",
        6,
    )
    assert entry["reason"].startswith("6 workload(s): ")
    # every shard caught up: no head left pending, each shows the decision
    heads = [found[f"w.{k:04d}"] for k in range(3)]
    assert [(h["epoch"], h["pending_epoch"], h["pending"]) for h in heads] == [(1, 1, "")] * 3
    assert [found[f"s.f.{k:04d}"]["epoch"] for k in range(3)] == [1, 1, 1]
    # each shard's facts and items as the commit point left them for its catch-up: its own two workloads
    assert [(found[f"s.f.{k:04d}"]["facts"], found[f"s.f.{k:04d}"]["items"]) for k in range(3)] == [
        (ABORTED_FACTS, f'[["w{2 * k}","aborted",false,0,0],["w{2 * k + 1}","aborted",false,0,0]]') for k in range(3)
    ]
    history = sharded.store.list_history(release_name, "w3")
    assert [(e.event_id, e.to_state, e.actor, e.actor_reason) for e in history if e.event_id == "abort-1"] == [
        ("abort-1", "aborted", OPERATOR, "cancelled")
    ]


def test_until_its_shards_catch_up_a_release_wide_decisions_summaries_are_on_the_record(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name)))
    sharded.store.table = NoCatchUp(sharded.store.table)
    abort = event("override", release_name, None, "abort-1", action="abort", actor=OPERATOR, reason="cancelled")
    with pytest.raises(RuntimeError):
        sharded.service.handle(abort)
    found = rows(sharded, release_name)
    assert [found[f"s.f.{k:04d}"]["epoch"] for k in range(3)] == [0, 0, 0]  # the summary rows lag
    assert [(found[f"w.{k:04d}"]["pending_epoch"], found[f"w.{k:04d}"]["facts"]) for k in range(3)] == [
        (1, ABORTED_FACTS)
    ] * 3
    assert unpacked(found["s"], "pending_summaries") == {
        str(k): {
            "epoch": 1,
            "facts": ABORTED_FACTS,
            "items": f'[["w{2 * k}","aborted",false,0,0],["w{2 * k + 1}","aborted",false,0,0]]',
            "items_chunks": 1,
        }
        for k in range(3)
    }
    _, summaries = other_store(sharded).summaries(release_name)
    assert {k: (s.epoch, [i[1] for i in s.items]) for k, s in summaries.items()} == {
        k: (1, ["aborted", "aborted"]) for k in range(3)
    }


def test_a_workloads_message_that_moves_the_release_keeps_its_id_in_its_shards_window(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name)))
    ready(sharded, release_name, ["w0", "w1", "w2", "w3", "w4", "w5"])  # the last tests-passed moves all six
    found = rows(sharded, release_name)
    assert [found[f"w.{i // 2:04d}.w{i}"]["state"] for i in range(6)] == ["promoted"] * 6
    assert found["h.~.9999999999"]["event_id"] == "t-w5" and found["s"]["epoch"] == 1  # a commit point
    ids = ["a-w4", "t-w4", "a-w5", "t-w5"]
    assert (found["w.0002"]["seen"], found["w.0002"]["processed"]) == (" ".join(digest_of(i) for i in ids), 4)
    assert (found["s"].get("seen", ""), found["s"]["processed"]) == ("", 0)  # no release-level message yet


class CatchUpsRaced:
    """The store's table client, but before each shard's catch-up lands another writer changes that shard's head
    (its ETag moves): every catch-up is a write conflict. `lose`: its answer is lost instead (the SDK retries no
    POST), after the service applied nothing."""

    def __init__(self, table, *, lose: bool = False):
        self._table, self._lose, self._lock = table, lose, threading.Lock()
        self.sent: dict[str, int] = {}

    def submit_transaction(self, ops):
        from tools.faults import transaction_kind

        if transaction_kind(list(ops)) != "catch-up":
            return self._table.submit_transaction(ops)
        head = ops[0][1]["RowKey"]
        with self._lock:
            self.sent[head] = self.sent.get(head, 0) + 1
        if self._lose:
            raise ServiceResponseError("Connection aborted: Connection reset by peer")
        self._table.update_entity({"PartitionKey": ops[0][1]["PartitionKey"], "RowKey": head, "raced": 1})
        return self._table.submit_transaction(ops)

    def __getattr__(self, name):
        return getattr(self._table, name)


def test_a_catch_up_that_always_loses_its_answer_is_sent_twice_per_shard(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name)))
    cut = CatchUpsRaced(sharded.store.table, lose=True)
    sharded.store.table = cut
    abort = event("override", release_name, None, "abort-1", action="abort", actor=OPERATOR, reason="cancelled")
    with pytest.raises(ServiceResponseError):
        sharded.service.handle(abort)
    assert "w.0000" in cut.sent and set(cut.sent.values()) == {2}  # a shard started is sent once more, not twice


def test_a_catch_up_that_always_conflicts_gives_up_saying_which_shard(sharded, release_name, caplog):
    sharded.service.apply(validate_plan(plan(release_name)))
    store, table = sharded.store, sharded.store.table
    store.table = NoCatchUp(table)
    abort = event("override", release_name, None, "abort-1", action="abort", actor=OPERATOR, reason="cancelled")
    with pytest.raises(RuntimeError):
        sharded.service.handle(abort)
    store.table = raced = CatchUpsRaced(table)
    snapshot = store.get_release(release_name)
    with caplog.at_level(logging.WARNING, logger="promote.storage"), pytest.raises(ConflictError) as raised:
        store.catch_up(snapshot)
    assert raced.sent == {"w.0000": 10, "w.0001": 10, "w.0002": 10}  # CATCH_UP_ATTEMPTS each
    # the first shard to give up is raised, the others logged
    prefix = "catch-up: another call failed too: "
    logged = [r.getMessage() for r in caplog.records if r.name == "promote.storage"]
    assert all(m.startswith(prefix) for m in logged)
    assert sorted([str(raised.value), *(m.removeprefix(prefix) for m in logged)]) == [
        f"release {release_name}: shard {k} did not catch up" for k in range(3)
    ]


class OneRacePerShard:
    """The store's table client, but before each shard's first catch-up lands another writer commits in that
    shard, as a workload's message does: its head and its summary change (their ETags move)."""

    def __init__(self, table):
        self._table, self._lock = table, threading.Lock()
        self.sent: dict[str, int] = {}

    def submit_transaction(self, ops):
        from tools.faults import transaction_kind

        if transaction_kind(list(ops)) == "catch-up":
            name, head = ops[0][1]["PartitionKey"], ops[0][1]["RowKey"]
            with self._lock:
                self.sent[head] = self.sent.get(head, 0) + 1
                first = self.sent[head] == 1
            if first:
                for key in (head, "s.f." + head[2:]):
                    self._table.update_entity({"PartitionKey": name, "RowKey": key, "raced": 1})
        return self._table.submit_transaction(ops)

    def __getattr__(self, name):
        return getattr(self._table, name)


def test_a_catch_up_raced_by_a_commit_in_its_shard_reads_the_shard_again_and_lands(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name)))
    raced = OneRacePerShard(sharded.store.table)
    sharded.store.table = raced
    abort = event("override", release_name, None, "abort-1", action="abort", actor=OPERATOR, reason="cancelled")
    assert sharded.service.handle(abort).outcome == "applied"
    assert raced.sent == {"w.0000": 2, "w.0001": 2, "w.0002": 2}  # the second send, after a read, lands
    found = rows(sharded, release_name)
    assert [(found[f"w.{k:04d}"]["epoch"], found[f"s.f.{k:04d}"]["epoch"]) for k in range(3)] == [(1, 1)] * 3
    assert [found[f"w.{i // 2:04d}.w{i}"]["state"] for i in range(6)] == ["aborted"] * 6


def test_a_release_wide_pauses_entries_count_as_moved_by_the_share_they_state(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name, model="single-step")))
    pause = event("override", release_name, None, "pause-all", action="pause", actor=OPERATOR, reason="CAB freeze")
    assert sharded.service.handle(pause).outcome == "applied"
    entry = rows(sharded, release_name)["h.~.9999999999"]
    moves = [(e.from_state, e.to_state, e.traffic_percent) for e in sharded.store.list_history(release_name)]
    assert moves == [("replicating", "replicating", 0)] * 6  # no state changes; each states its share
    assert (entry["event_id"], entry["moved"]) == ("pause-all", 6)
