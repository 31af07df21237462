"""The table store against a real Azurite: one transaction per message, ETag conflicts, de-duplication."""

from __future__ import annotations

import json
import threading

import pytest

from bench.metering import RequestCounter
from shared.adapters.table_store import TableReleaseStore, marker_row
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE
from shared.domain.errors import ConflictError, UnknownRelease
from shared.domain.machine import decide
from shared.domain.messages import parse_message
from shared.domain.model import SEEN_WINDOW
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
    assert dict(counter.by_kind) == {"query": 1, "transaction": 1, "point-read": 1}
    assert sum("promoterouting" in u for u in counter.urls) == 1


def test_commit_writes_state_history_and_marker_together(stack, release_name):
    stack.service.apply(plan(release_name))
    store: TableReleaseStore = stack.store
    stack.service.handle(event("asset-replicated", release_name, "w1", "e1", asset="vm-1-0"))
    table = stack.table(RELEASES_TABLE)
    rows = {r["RowKey"]: r for r in table.query_entities(f"PartitionKey eq '{release_name}'")}
    assert rows["s"]["seq"] == 1 and rows["s"]["processed"] == 1
    assert marker_row("e1") in rows
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
    with pytest.raises(ConflictError):
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
    from shared.application.ports import Snapshot

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
        "workloads": [{"name": f"w{i}", "assets": [f"vm-{j}-{'x' * 240}" for j in range(200)]} for i in range(10)],
    }
    with pytest.raises(PlanError, match="the limit is 400,000"):
        validate_plan(doc)
