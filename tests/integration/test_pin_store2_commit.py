"""The table store's commit on a real Azurite, driven with decisions written out by hand (the store's own
contract, whatever decided them): a commit point's release-level entries numbered after its own entry, the
`after` releases seen copied into every head, the summaries an earlier commit point left pending kept on the
record, the moved count of a release-wide decision, and a commit's default time taken from its first entry."""

from __future__ import annotations

import dataclasses

import pytest

from shared.adapters.table_store import TableReleaseStore
from shared.adapters.table_store.shards import unpacked
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE
from shared.domain.machine import Decision
from shared.domain.model import HistoryEntry, Outcome, WorkloadState
from shared.domain.notices import Notice
from shared.domain.plan import validate_plan
from tests.fakes import T0
from tests.integration.test_release_shards import OPERATOR, plan, rows
from tests.support.tables import NoCatchUp


@pytest.fixture
def sharded(settings):
    return Stack(dataclasses.replace(settings, shard_size=2))  # six workloads: three shards


def other_store(stack: Stack) -> TableReleaseStore:
    """The same table as another process sees it: a store with nothing cached."""
    return TableReleaseStore(stack.table(RELEASES_TABLE), shard_size=2)


def entry(event_id: str, workload: str | None = None, **more) -> HistoryEntry:
    fields = dict(from_state=None, to_state=None, traffic_percent=None, actor=OPERATOR, source="test")
    fields.update(more)
    return HistoryEntry(T0, event_id, "override", Outcome.APPLIED, "by hand", workload, **fields)


def test_an_after_release_seen_is_copied_into_every_head_with_release_entries_numbered_after_the_commit_points(
    sharded, release_name
):
    sharded.service.apply(validate_plan(plan(release_name)))
    store = other_store(sharded)
    snapshot = store.get_release(release_name)
    assert rows(sharded, release_name)["s"]["seq"] == 0
    # no workload changes: the commit point is the release record and every head (each keeps the copy)
    decision = Decision(
        release=snapshot.release.evolve(after_met=("dep-a", "dep-b")),
        entries=[entry("told-1"), entry("told-2")],
    )
    store.commit(snapshot, decision, None)
    found = rows(sharded, release_name)
    assert [found[f"w.{k:04d}"]["after_met"] for k in range(3)] == ["dep-a dep-b"] * 3
    # the commit point's own entry (of no workload, named after the first) is number 0, the release-level
    # entries beside it 1 and 2: the record's next is 3
    assert found["s"]["seq"] == 3
    assert sorted((k, found[k]["seq"], found[k]["event_id"], found[k]["reason"]) for k in found if k[:4] == "h.~.") == [
        ("h.~.9999999997", 2, "told-2", "by hand"),
        ("h.~.9999999998", 1, "told-1", "by hand"),
        ("h.~.9999999999", 0, "told-1", "0 workload(s): by hand"),
    ]
    assert found["h.~.9999999999"]["moved"] == 0
    # a later read of one shard alone knows the releases seen
    assert other_store(sharded).get_release(release_name, "w3", whole=False).release.after_met == ("dep-a", "dep-b")


def test_a_release_wide_decisions_moved_count_leaves_out_entries_that_neither_move_nor_state_a_share(
    sharded, release_name
):
    sharded.service.apply(validate_plan(plan(release_name)))
    store = other_store(sharded)
    snapshot = store.get_release(release_name)
    release = snapshot.release
    w0, w2, w4 = (release.workloads[n] for n in ("w0", "w2", "w4"))
    changed = {
        "w0": w0.evolve(paused=True),
        "w2": w2.evolve(paused=True),
        "w4": w4.evolve(state=WorkloadState.TESTING),
    }
    same = dict(from_state="replicating", to_state="replicating")
    decision = Decision(
        release=release.evolve(workloads={**release.workloads, **changed}),
        entries=[
            entry("pause-1", "w0", **same),
            entry("pause-1", "w2", **same),
            entry("pause-1", "w4", from_state="replicating", to_state="testing"),
        ],
    )
    store.commit(snapshot, decision, None)
    found = rows(sharded, release_name)
    assert (found["h.~.9999999999"]["event_id"], found["h.~.9999999999"]["moved"]) == ("pause-1", 1)
    assert found["h.~.9999999999"]["reason"] == "3 workload(s): by hand"


def test_a_second_commit_point_keeps_the_summaries_an_earlier_one_left_pending(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name)))
    store = other_store(sharded)
    store.table = NoCatchUp(store.table)
    first = store.get_release(release_name)
    release = first.release
    paused = {n: release.workloads[n].evolve(paused=True) for n in ("w0", "w2")}
    with pytest.raises(RuntimeError):  # shards 0 and 1 committed at epoch 1, neither caught up
        store.commit(
            first,
            Decision(release=release.evolve(workloads={**release.workloads, **paused}), entries=[entry("p-1")]),
            None,
        )
    second = store.get_release(release_name)
    assert second.version.lagging_shards() == [0, 1]
    release = second.release
    tested = {n: release.workloads[n].evolve(state=WorkloadState.TESTING) for n in ("w3", "w4")}
    with pytest.raises(RuntimeError):  # shards 1 and 2 at epoch 2; shard 0 still lags at epoch 1
        store.commit(
            second,
            Decision(release=release.evolve(workloads={**release.workloads, **tested}), entries=[entry("t-1")]),
            None,
        )
    found = rows(sharded, release_name)
    assert found["s"]["epoch"] == 2
    pending = unpacked(found["s"], "pending_summaries")
    assert {k: doc["epoch"] for k, doc in pending.items()} == {"0": 1, "1": 2, "2": 2}
    _, summaries = other_store(sharded).summaries(release_name)
    assert {k: (s.epoch, [(i[0], i[1]) for i in s.items]) for k, s in summaries.items()} == {
        0: (1, [("w0", "replicating"), ("w1", "replicating")]),
        1: (2, [("w2", "replicating"), ("w3", "testing")]),
        2: (2, [("w4", "testing"), ("w5", "replicating")]),
    }


def test_a_commit_without_a_time_takes_its_first_entrys(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name)))
    store = other_store(sharded)
    snapshot = store.get_release(release_name)
    notice = Notice("n-1", "paused", release_name, "w1", T0, "hold-1", "replicating", None, None, "by hand")
    w1 = snapshot.release.workloads["w1"].evolve(paused=True)
    decision = Decision(
        release=snapshot.release.evolve(workloads={**snapshot.release.workloads, "w1": w1}),
        entries=[entry("hold-1", "w1", from_state="replicating", to_state="replicating")],
        notices=[notice],
    )
    store.commit(snapshot, decision, None)  # no `now`: the outbox row is keyed by the entry's time (T0)
    found = rows(sharded, release_name)
    digest = "eee747155659e77f"  # sha256("hold-1"), 16 hex digits
    assert [k for k in found if k.startswith("o.")] == [f"o.p.1795730400000.{digest}"]


def test_a_release_wide_decisions_entry_is_named_after_its_first_workloads_entry(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name)))
    store = other_store(sharded)
    snapshot = store.get_release(release_name)
    release = snapshot.release
    paused = {n: release.workloads[n].evolve(paused=True) for n in ("w0", "w2")}
    same = dict(from_state="replicating", to_state="replicating")
    decision = Decision(
        release=release.evolve(workloads={**release.workloads, **paused}),
        entries=[
            entry("note-1", actor="someone-else"),  # a release-level entry first
            entry("pause-w0", "w0", **same),
            entry("pause-w2", "w2", **same),
        ],
    )
    store.commit(snapshot, decision, None)
    found = rows(sharded, release_name)
    assert sorted((k, found[k]["seq"], found[k]["event_id"], found[k]["actor"]) for k in found if k[:4] == "h.~.") == [
        ("h.~.9999999998", 1, "note-1", "someone-else"),
        ("h.~.9999999999", 0, "pause-w0", OPERATOR),
    ]
    assert found["h.~.9999999999"]["reason"] == "2 workload(s): by hand"
