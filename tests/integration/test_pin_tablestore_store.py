"""The table store on a real Azurite, where no other in-process test looks: a message's outcome read from its
de-duplication marker (outcome_of), a shard read after another process changed the plan (the layout read
again), the release record's `seq` and archive marks as stored, and the errors an unknown release or a stale
snapshot gives."""

from __future__ import annotations

import dataclasses

import pytest

from shared.adapters.table_store import TableReleaseStore, marker_row
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE
from shared.application.release_list import archive
from shared.domain.errors import ConflictError, UnknownRelease
from shared.domain.model import HistoryEntry, Outcome
from shared.domain.plan import validate_plan
from tests.fakes import event
from tests.integration.test_release_shards import OPERATOR, plan, rows


@pytest.fixture
def sharded(settings):
    return Stack(dataclasses.replace(settings, shard_size=2))  # six workloads: three shards


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
