"""The table store against a real Azurite: one transaction per message, ETag conflicts, de-duplication."""

from __future__ import annotations

import json
import threading

import pytest
from azure.core.exceptions import HttpResponseError
from azure.data.tables import TableTransactionError, UpdateMode

from bench.metering import RequestCounter
from shared.adapters.outbox import TableOutbox, outbox_entity
from shared.adapters.table_store import TableReleaseStore, marker_row
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE
from shared.application.ports import Snapshot
from shared.domain.errors import ConflictError, ReleaseExists, SeenElsewhere, UnknownRelease
from shared.domain.machine import Decision, decide
from shared.domain.messages import parse_message
from shared.domain.model import SEEN_WINDOW, HistoryEntry, Outcome, new_release
from shared.domain.plan import validate_plan
from tests.fakes import T0, event


def plan(
    name: str,
    *,
    workloads: int = 2,
    assets: int = 2,
    model: str = "single-step",
    suffix: str = "",
    on_drift: str = "report",
):
    doc = {
        "release": name,
        "model": model,
        "approvers": ["ana@contoso.com"],
        "operators": ["ops@contoso.com"],
        "on_drift": on_drift,
        "workloads": [
            {"name": f"w{i}", "assets": [f"vm-{i}-{j}{suffix}" for j in range(assets)]} for i in range(workloads)
        ],
    }
    if model == "flight":
        doc["flights"] = [{"percent": 10, "bake": "0s"}, {"percent": 100, "bake": "0s"}]
    return validate_plan(doc)


def test_release_round_trip_including_a_plan_larger_than_one_property(stack, release_name):
    big = plan(release_name, workloads=40, assets=60, suffix="-" + "x" * 40)  # plan JSON over 32K characters
    assert len(big.model_dump_json()) > 64_000
    stack.service.apply(big)
    release = stack.store.get_release(release_name).release
    assert release.plan == big
    assert list(release.workloads) == [f"w{i}" for i in range(40)]
    assert all(not done for w in release.workloads.values() for done in w.assets.values())


def test_unknown_release(stack):
    with pytest.raises(UnknownRelease):
        stack.store.get_release("never-applied")


class UrlCounter(RequestCounter):
    """Also keeps each request's URL, to tell the state table from the routing table."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def __call__(self, request) -> None:
        super().__call__(request)
        self.urls.append(request.http_request.url)

    def reset(self) -> None:
        super().reset()
        self.urls.clear()


def test_one_read_and_one_transaction_per_lifecycle_event(settings, release_name):
    counter = UrlCounter()
    stack = Stack(settings, request_hook=counter)
    stack.service.apply(plan(release_name))
    _ = stack.store  # tables created up front, as in a warm function app
    stack.table("promoterouting")
    counter.reset()
    result = stack.service.handle(event("asset-replicated", release_name, "w0", "e1", asset="vm-0-0"))
    assert result.outcome == "applied"
    assert dict(counter.by_kind) == {"query": 1, "transaction": 1}
    counter.reset()
    assert (
        stack.service.handle(event("asset-replicated", release_name, "w0", "e1", asset="vm-0-0")).outcome == "duplicate"
    )
    # the duplicate is recorded too; with on_drift: report (the default) its routing is left alone
    assert dict(counter.by_kind) == {"query": 1, "transaction": 1}
    assert sum("promoterouting" in u for u in counter.urls) == 0


def test_a_duplicate_under_on_drift_reapply_checks_its_workloads_routing(settings, release_name):
    counter = UrlCounter()
    stack = Stack(settings, request_hook=counter)
    stack.service.apply(plan(release_name, on_drift="reapply"))
    stack.store, stack.table("promoterouting")
    stack.service.handle(event("asset-replicated", release_name, "w0", "e1", asset="vm-0-0"))
    counter.reset()
    assert (
        stack.service.handle(event("asset-replicated", release_name, "w0", "e1", asset="vm-0-0")).outcome == "duplicate"
    )
    # its workload's routing record is read to check it matches the state (machine.redelivery_reasserts)
    # (its record and its release's shares record: two point reads, an OR of row keys would scan the partition)
    assert dict(counter.by_kind) == {"query": 1, "transaction": 1, "point-read": 2}
    assert sum("promoterouting" in u for u in counter.urls) == 2


def test_commit_writes_state_history_and_marker_together(stack, release_name):
    stack.service.apply(plan(release_name))
    store: TableReleaseStore = stack.store
    stack.service.handle(event("asset-replicated", release_name, "w1", "e1", asset="vm-1-0"))
    table = stack.table(RELEASES_TABLE)
    rows = {r["RowKey"]: r for r in table.query_entities(f"PartitionKey eq '{release_name}'")}
    # a release of one shard keeps every id in its record; a workload's entry is numbered by its row's hseq
    assert rows["s"]["processed"] == 1
    assert rows["w.0000.w1"]["hseq"] == 1 and "h.w1.9999999999" in rows  # keys count down: newest first
    assert rows[marker_row("e1")]["outcome"] == "applied"
    assert [e.event_id for e in store.list_history(release_name, "w1")] == ["e1"]
    assert store.list_history(release_name, "w0") == []
    assert store.get_release(release_name).release.workloads["w1"].assets == {"vm-1-0": True, "vm-1-1": False}


def test_a_stale_writer_conflicts_and_writes_nothing(stack, release_name):
    stack.service.apply(plan(release_name))
    store = stack.store
    first = store.get_release(release_name)
    second = store.get_release(release_name)  # two writers read the same version
    m1 = parse_message(event("asset-replicated", release_name, "w0", "a", asset="vm-0-0"))
    m2 = parse_message(event("asset-replicated", release_name, "w0", "b", asset="vm-0-1"))
    store.commit(first, decide(first.release, m1, T0), "a")
    with pytest.raises(ConflictError):
        store.commit(second, decide(second.release, m2, T0), "b")
    assert [e.event_id for e in store.list_history(release_name)] == ["a"]
    assert not store.seen_before(release_name, "b")
    # re-reading and re-deciding succeeds and keeps both facts
    third = store.get_release(release_name)
    store.commit(third, decide(third.release, m2, T0), "b")
    assert store.get_release(release_name).release.workloads["w0"].all_replicated


def test_a_marker_that_exists_makes_the_transaction_fail_whole(stack, release_name):
    stack.service.apply(plan(release_name))
    store = stack.store
    snap = store.get_release(release_name)
    m1 = parse_message(event("asset-replicated", release_name, "w0", "dup", asset="vm-0-0"))
    store.commit(snap, decide(snap.release, m1, T0), "dup")
    snap2 = store.get_release(release_name)
    # a writer that did not see the marker (window bypassed) must not record the message twice
    stale = snap2.release.evolve(seen=())
    with pytest.raises(SeenElsewhere):  # the service decides it again, as a duplicate
        store.commit(snap2, decide(stale, m1, T0), "dup")
    assert len(store.list_history(release_name)) == 1


def test_two_services_writing_one_release_lose_no_update(settings, release_name):
    """Two hosts (separate clients) handle different assets of the same release at the same time."""
    a, b = Stack(settings), Stack(settings)
    a.service.apply(plan(release_name, workloads=1, assets=40))
    barrier = threading.Barrier(2)
    errors: list[Exception] = []
    redeliveries: list[int] = []  # under load two writers can collide 10 times in a row; nothing may be lost

    def work(stack: Stack, assets: range):
        barrier.wait()
        try:
            for j in assets:
                body = event("asset-replicated", release_name, "w0", f"e{j}", asset=f"vm-0-{j}")
                for _delivery in range(1, 6):  # a handler that gave up on conflicts is redelivered by the platform
                    try:
                        stack.service.handle(body)
                        break
                    except ConflictError:
                        redeliveries.append(j)
                else:
                    raise ConflictError(f"e{j}: 5 deliveries all lost to the other writer")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(a, range(0, 40, 2))),
        threading.Thread(target=work, args=(b, range(1, 40, 2))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    release = a.store.get_release(release_name).release
    assert release.workloads["w0"].all_replicated and release.workloads["w0"].state == "testing"
    history = a.store.list_history(release_name)
    assert sorted(e.event_id for e in history) == sorted(f"e{j}" for j in range(40))
    assert [e.outcome for e in history].count("applied") == 40


def test_duplicates_beyond_the_in_row_window_are_found_by_their_marker(stack, release_name):
    stack.service.apply(plan(release_name))
    stack.service.handle(event("asset-replicated", release_name, "w0", "old", asset="vm-0-0"))
    snap = stack.store.get_release(release_name)
    # as if SEEN_WINDOW newer messages had pushed "old" out of the row's window
    aged = Snapshot(snap.release.evolve(seen=(), processed=SEEN_WINDOW + 1), snap.version)
    assert stack.service._seen(aged, "old") is True
    assert stack.service._seen(aged, "new") is False


def test_only_approvers_and_operators_may_change_while_a_release_exists(stack, release_name):
    from shared.domain.errors import PlanChangeRefused

    original = plan(release_name)
    assert stack.service.apply(original).action == "created"
    assert stack.service.apply(original).action == "unchanged"
    people = validate_plan({**original.canonical(), "approvers": ["bob@contoso.com"]})
    assert stack.service.apply(people).action == "updated"
    assert stack.store.get_release(release_name).release.plan.approvers == ["bob@contoso.com"]
    changed = validate_plan({**original.canonical(), "on_alert": "pause"})
    with pytest.raises(PlanChangeRefused, match="on_alert"):
        stack.service.apply(changed)


def test_a_plan_that_shrinks_below_one_chunk_reads_back_whole(stack, release_name):
    """A merge cannot remove the old plan_1 chunk; the stored chunk count says to ignore it."""
    approvers = [f"approver-{i:03d}-{'x' * 230}@contoso.com" for i in range(100)]  # ~25K characters
    doc = {**plan(release_name).canonical(), "approvers": approvers}
    doc["workloads"][0]["assets"] += [f"vm-extra-{j}-{'y' * 100}" for j in range(60)]  # ~7K more
    big = validate_plan(doc)
    assert len(json.dumps(big.canonical())) > 30_000
    stack.service.apply(big)
    small = validate_plan({**doc, "approvers": ["ana@contoso.com"]})
    assert stack.service.apply(small).action == "updated"
    assert stack.store.get_release(release_name).release.plan == small
    stack.service.handle(event("asset-replicated", release_name, "w0", "after", asset="vm-0-0"))
    assert stack.store.list_history(release_name, "w0")[-1].outcome == "applied"


def test_plans_too_large_for_storage_are_refused_at_apply():
    from shared.domain.errors import PlanError

    doc = {
        "release": "huge",
        "model": "single-step",
        "workloads": [{"name": f"w{i}", "assets": [f"vm-{j}-{'x' * 240}" for j in range(200)]} for i in range(21)],
    }
    # a shard's workload rows are rewritten in one transaction (4 MiB): their asset names are bounded together
    with pytest.raises(PlanError, match="asset names take 1,035,090 characters in all; the limit is 1,000,000"):
        validate_plan(doc)


# -- every write that could lose an update is guarded (pinned: each test fails when its guard is dropped) -------
FOREIGN = {"touched_by": "another writer"}  # a property no promote row has: only the row's ETag moves


def partition(table, name: str) -> dict[str, dict]:
    return {r["RowKey"]: dict(r) for r in table.query_entities(f"PartitionKey eq '{name}'")}


def touch(table, name: str, row: str) -> None:
    """Another writer's change to one row, between a reader's read and its write."""
    table.update_entity({"PartitionKey": name, "RowKey": row, **FOREIGN}, mode=UpdateMode.MERGE)


def pause_everything(snapshot) -> Decision:
    """A decision that writes the release row and every workload row, with a history entry and a marker."""
    release = snapshot.release
    paused = {n: w.evolve(paused=True, paused_by="ops@contoso.com") for n, w in release.workloads.items()}
    entry = HistoryEntry(
        at=T0,
        event_id="pause-all",
        type="override",
        outcome=Outcome.APPLIED,
        reason="freeze",
        workload=None,
        from_state=None,
        to_state=None,
        traffic_percent=None,
    )
    return Decision(release=release.evolve(workloads=paused, seq=release.seq + 1, processed=1), entries=[entry])


@pytest.mark.parametrize("row", ["s", "s.f.0000", "w.0000", "w.0000.w0", "w.0000.w1"])
def test_a_foreign_write_to_any_row_a_commit_changes_makes_it_a_conflict_that_writes_nothing(stack, release_name, row):
    stack.service.apply(plan(release_name))
    store, table = stack.store, stack.table(RELEASES_TABLE)
    snapshot = store.get_release(release_name)
    decision = pause_everything(snapshot)
    touch(table, release_name, row)
    before = partition(table, release_name)
    with pytest.raises(ConflictError):
        store.commit(snapshot, decision, "pause-all")
    assert partition(table, release_name) == before  # no state, no history entry, no marker
    # the same decision over the rows as they are now is written whole
    store.commit(store.get_release(release_name), pause_everything(store.get_release(release_name)), "pause-all")
    assert all(w.paused for w in store.get_release(release_name).release.workloads.values())


@pytest.fixture
def outbox_row(stack, release_name):
    """A pending outbox row as a commit writes it, and the outbox that delivers it."""
    table = stack.table(RELEASES_TABLE)
    targets = [{"type": "webhook", "url_setting": "PROMOTE_TEST_HOOK"}]
    table.create_entity(outbox_entity(release_name, "0000000000003.x", [], targets, T0))
    return TableOutbox(table)


@pytest.mark.parametrize("status", ["pending", "sent", "failed"])
def test_an_outbox_status_change_over_a_row_changed_meanwhile_is_a_conflict(stack, release_name, outbox_row, status):
    [item] = outbox_row.list_release(release_name)
    touch(stack.table(RELEASES_TABLE), release_name, "o.p." + item.key)
    before = partition(stack.table(RELEASES_TABLE), release_name)
    with pytest.raises(ConflictError):
        outbox_row.record(item, sent=frozenset({"0"}), status=status, attempts=1, next_attempt=T0, last_error="x")
    assert partition(stack.table(RELEASES_TABLE), release_name) == before


def test_an_outbox_row_another_deliverer_recorded_first_is_a_conflict(stack, release_name, outbox_row):
    [mine] = outbox_row.list_release(release_name)
    [theirs] = outbox_row.list_release(release_name)
    outbox_row.record(theirs, sent=frozenset({"0"}), status="sent", attempts=1, next_attempt=T0, last_error=None)
    with pytest.raises(ConflictError):
        outbox_row.record(mine, sent=frozenset(), status="pending", attempts=1, next_attempt=T0, last_error="down")
    [recorded] = outbox_row.list_release(release_name)
    assert (recorded.status, recorded.sent, recorded.last_error) == ("sent", frozenset({"0"}), None)


def test_a_release_created_twice_at_once_exists_once_and_the_apply_that_lost_reads_it(settings, release_name):
    first, second = Stack(settings), Stack(settings)
    the_plan = plan(release_name)
    second.store.create_release(new_release(the_plan, T0))
    with pytest.raises(ReleaseExists):
        first.store.create_release(new_release(the_plan, T0))

    raced = f"{release_name}-raced"
    racing_plan = plan(raced)

    class LosesTheRace(TableReleaseStore):
        """The other apply creates the release between this apply's read and its create."""

        def create_release(self, release):
            second.service.apply(racing_plan)
            super().create_release(release)

    first.service.store = LosesTheRace(first.table(RELEASES_TABLE))
    assert first.service.apply(racing_plan).action == "unchanged"  # read again: the release is the one it meant
    assert first.store.get_release(raced).release.plan == racing_plan


def test_a_plan_update_or_a_dependant_over_a_release_row_changed_meanwhile_is_a_conflict(stack, release_name):
    original = plan(release_name)
    stack.service.apply(original)
    store, table = stack.store, stack.table(RELEASES_TABLE)
    snapshot = store.get_release(release_name)
    touch(table, release_name, "s")  # Azurite, like Azure, answers 412 to the If-Match that no longer matches
    with pytest.raises(ConflictError):
        store.update_plan(snapshot, validate_plan({**original.canonical(), "approvers": ["bob@contoso.com"]}))
    with pytest.raises(ConflictError):
        store.add_dependant(snapshot, "later")
    release = store.get_release(release_name).release
    assert release.plan == original and release.dependants == ()


class RefusingTable:
    """A TableClient whose every write fails as the service answered `status` (409: the row was created or
    changed by another writer, 412: its ETag no longer matches, anything else: a failure of its own)."""

    def __init__(self, status: int):
        self.status = status

    def _error(self, cls: type[HttpResponseError]) -> HttpResponseError:
        exc = cls(message=f"the service answered {self.status}")
        exc.status_code = self.status
        return exc

    def update_entity(self, *args, **kwargs):
        raise self._error(HttpResponseError)

    def submit_transaction(self, operations):
        raise self._error(TableTransactionError)


def read_without_a_table(name: str) -> Snapshot:
    """A fresh release as a whole read of its rows would give it (every ETag W/"1"), with no table behind it."""
    from azure.data.tables import TableEntity

    from shared.adapters.table_store.layout import Layout, Read
    from shared.adapters.table_store.rows import plan_properties, release_counters, workload_entity
    from shared.adapters.table_store.shards import head_properties

    release = new_release(plan(name), T0)
    record = {"PartitionKey": name, "RowKey": "s", **plan_properties(release.plan), "layout": 2, "shard_size": 97}
    record.update(shards=1, epoch=0, state=release.state.value, **release_counters(release))
    rows = [record, {"PartitionKey": name, "RowKey": "w.0000", **head_properties()}]
    rows += [workload_entity(name, w) for w in release.workloads.values()]
    entities = []
    for row in rows:
        entity = TableEntity(**row)
        entity._metadata = {"etag": 'W/"1"'}
        entities.append(entity)
    read = Read.of_rows(name, Layout.of(record), entities, record=record)
    return Snapshot(read.release(None), read)


@pytest.mark.parametrize("status", [409, 412])
def test_writes_that_lose_a_race_answered_409_or_412_are_conflicts(status):
    snapshot = read_without_a_table("raced")
    the_plan = snapshot.release.plan
    store = TableReleaseStore(RefusingTable(status))  # type: ignore[arg-type]
    with pytest.raises(ConflictError):
        store.update_plan(snapshot, the_plan)
    with pytest.raises(ConflictError):
        store.add_dependant(snapshot, "later")
    with pytest.raises(ConflictError):
        store.commit(snapshot, pause_everything(snapshot), "e1")
    # (a release created twice at once is ReleaseExists: test_a_release_created_twice_at_once_... on Azurite)


@pytest.mark.parametrize("status", [400, 403, 500])
def test_other_write_failures_are_not_taken_for_conflicts(status):
    snapshot = read_without_a_table("refused")
    the_plan = snapshot.release.plan
    store = TableReleaseStore(RefusingTable(status))  # type: ignore[arg-type]
    for write in (
        lambda: store.update_plan(snapshot, the_plan),
        lambda: store.add_dependant(snapshot, "later"),
        lambda: store.commit(snapshot, pause_everything(snapshot), "e1"),
        lambda: store.create_release(new_release(the_plan, T0)),
    ):
        with pytest.raises(HttpResponseError) as raised:
            write()
        assert raised.value.status_code == status and not isinstance(raised.value, ConflictError)
