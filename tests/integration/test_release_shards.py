"""A release kept in several shards, on a real Azurite (shards of 2 workloads here; 97 by default): what a
message about one workload costs, a staged release moved at once, a crash between the commit point and the
shards' catch-up, and ids recorded in another scope."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from azure.core.exceptions import ServiceResponseError

from bench.metering import RequestCounter
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE
from shared.domain.plan import validate_plan
from tests.fakes import event

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"
NAMES = [f"w{i}" for i in range(6)]  # three shards of two


@pytest.fixture
def sharded(settings):
    return dataclasses.replace(settings, shard_size=2)


def plan(name: str, model: str = "staged", **extra) -> dict:
    doc = {
        "release": name,
        "model": model,
        "approval": "auto",
        "approvers": [APPROVER],
        "operators": [OPERATOR],
        "workloads": [{"name": n, "assets": [f"vm-{n}"]} for n in NAMES],
    }
    doc.update(extra)
    return doc


def ready(stack: Stack, name: str, workloads: list[str]) -> list:
    results = []
    for w in workloads:
        results.append(stack.service.handle(event("asset-replicated", name, w, f"a-{w}", asset=f"vm-{w}")))
        results.append(stack.service.handle(event("tests-passed", name, w, f"t-{w}")))
    return results


def rows(stack: Stack, name: str) -> dict[str, dict]:
    return {r["RowKey"]: dict(r) for r in stack.table(RELEASES_TABLE).query_entities(f"PartitionKey eq '{name}'")}


def test_a_workloads_message_reads_its_shard_and_commits_once_and_the_release_moves_at_once(sharded, release_name):
    counter = RequestCounter()
    stack = Stack(sharded, request_hook=counter)
    stack.service.apply(validate_plan(plan(release_name)))
    stack.table("promoterouting")
    assert sorted(k for k in rows(stack, release_name) if k.startswith(("w.", "s.f."))) == [
        "s.f.0000", "s.f.0001", "s.f.0002", "w.0000", "w.0000.w0", "w.0000.w1", "w.0001", "w.0001.w2",
        "w.0001.w3", "w.0002", "w.0002.w4", "w.0002.w5",
    ]  # fmt: skip
    stack.service.handle(event("asset-replicated", release_name, "w0", "warm", asset="vm-w0"))  # learns the layout
    counter.reset()
    for w in NAMES[1:]:
        assert (
            stack.service.handle(event("asset-replicated", release_name, w, f"a-{w}", asset=f"vm-{w}")).outcome
            == "applied"
        )
    assert dict(counter.by_kind) == {"query": 5, "transaction": 5}  # exactly 2 requests a lifecycle event
    results = ready(stack, release_name, ["w0"])[1:] + [
        stack.service.handle(event("tests-passed", release_name, w, f"t-{w}")) for w in NAMES[1:]
    ]
    assert all(r.outcome == "applied" for r in results)
    release = stack.store.get_release(release_name).release
    assert {w.state for w in release.workloads.values()} == {"promoted"} and release.state == "promoted"
    assert {w.traffic_percent for w in release.workloads.values()} == {100}
    # every workload's history names its promotion with the release, kept in the one release-level entry
    for w in NAMES:
        last = stack.store.list_history(release_name, w)[-1]
        assert last.to_state == "promoted" and "promoted with the release" in last.reason
    stored = rows(stack, release_name)
    assert all(stored[f"w.{k:04d}"]["pending_epoch"] == stored[f"w.{k:04d}"]["epoch"] == 1 for k in range(3))


def test_a_crash_between_the_commit_point_and_the_catch_up_shows_the_release_moved_and_converges(sharded, release_name):
    stack = Stack(sharded)
    stack.service.apply(validate_plan(plan(release_name)))
    ready(stack, release_name, NAMES[:-1])
    last = NAMES[-1]
    stack.service.handle(event("asset-replicated", release_name, last, f"a-{last}", asset=f"vm-{last}"))
    store = stack.store
    catch_up = store._catch_up

    def crash(read, etags):
        raise RuntimeError("host killed after the commit point")

    store._catch_up = crash
    with pytest.raises(RuntimeError):
        stack.service.handle(event("tests-passed", release_name, NAMES[-1], "t-last"))
    store._catch_up = catch_up
    stored = rows(stack, release_name)
    assert all(stored[f"w.{k:04d}.{n}"]["state"] == "ready" for k, n in ((0, "w0"), (1, "w2")))  # rows lag
    # yet every reader sees the release moved: a whole read, the summaries, one shard's read
    release = Stack(sharded).store.get_release(release_name).release
    assert {w.state for w in release.workloads.values()} == {"promoted"}
    record, summaries = Stack(sharded).store.summaries(release_name)
    assert all(item[1] == "promoted" for s in summaries.values() for item in s.items)
    fresh = Stack(sharded)
    fresh.store.get_release(release_name)  # learn the layout
    # a lagging shard is read whole: whoever reads it next finishes the catch-up
    part = fresh.store.get_release(release_name, "w2", whole=False).release
    assert not part.partial and part.workloads["w2"].state == "promoted"
    # the redelivery is a duplicate and finishes the catch-up
    assert stack.service.handle(event("tests-passed", release_name, NAMES[-1], "t-last")).outcome == "duplicate"
    stored = rows(stack, release_name)
    assert all(stored[f"w.{k:04d}"]["pending_epoch"] == stored[f"w.{k:04d}"]["epoch"] for k in range(3))
    assert all(stored[f"w.{i // 2:04d}.{n}"]["state"] == "promoted" for i, n in enumerate(NAMES))


def test_a_release_wide_override_over_several_shards_is_one_commit_point_and_a_catch_up_per_shard(
    sharded, release_name
):
    counter = RequestCounter()
    stack = Stack(sharded, request_hook=counter)
    stack.service.apply(validate_plan(plan(release_name, model="single-step")))
    counter.reset()
    result = stack.service.handle(
        event("override", release_name, None, "pause-all", action="pause", actor=OPERATOR, reason="CAB freeze")
    )
    assert result.outcome == "applied" and len(result.entries) == 6
    assert counter.by_kind["transaction"] == 1 + 3  # the commit point, then one catch-up per shard
    assert all(w.paused for w in stack.store.get_release(release_name).release.workloads.values())
    assert [e.reason for e in stack.store.list_history(release_name, "w5")] == ["paused at 0%"]


def test_an_id_used_by_another_workloads_message_in_another_shard_is_a_duplicate(sharded, release_name):
    stack = Stack(sharded)
    stack.service.apply(validate_plan(plan(release_name)))
    stack.service.handle(event("asset-replicated", release_name, "w0", "same-id", asset="vm-w0"))
    again = stack.service.handle(event("asset-replicated", release_name, "w5", "same-id", asset="vm-w5"))
    assert again.outcome == "duplicate"
    assert not stack.store.get_release(release_name).release.workloads["w5"].assets["vm-w5"]


class LostAnswers:
    """The store's table client, but the answers of some transactions are lost after the service applied them
    (a kept-alive connection closed under the response): the SDK raises ServiceResponseError and retries no POST."""

    def __init__(self, table, lose: set[int]):
        self._table, self._lose, self._count, self._lock = table, lose, 0, threading.Lock()
        self.lost = 0

    def submit_transaction(self, ops):
        with self._lock:
            self._count += 1
            lose = self._count in self._lose
        result = self._table.submit_transaction(ops)
        if lose:
            with self._lock:
                self.lost += 1
            raise ServiceResponseError("Connection aborted: Connection reset by peer")
        return result

    def __getattr__(self, name):
        return getattr(self._table, name)


def test_a_catch_up_whose_answer_is_lost_reads_its_shard_again_and_the_move_completes(sharded, release_name):
    stack = Stack(sharded)
    stack.service.apply(validate_plan(plan(release_name)))
    ready(stack, release_name, NAMES[:-1])
    last = NAMES[-1]
    stack.service.handle(event("asset-replicated", release_name, last, f"a-{last}", asset=f"vm-{last}"))
    lossy = LostAnswers(stack.store.table, lose={2, 3})  # the commit point is the first; two catch-ups lose theirs
    stack.store.table = lossy
    result = stack.service.handle(event("tests-passed", release_name, last, "t-last"))
    assert result.outcome == "applied" and lossy.lost == 2
    stored = rows(stack, release_name)
    assert all(stored[f"w.{k:04d}"]["pending_epoch"] == stored[f"w.{k:04d}"]["epoch"] for k in range(3))
    assert all(stored[f"w.{i // 2:04d}.{n}"]["state"] == "promoted" for i, n in enumerate(NAMES))


class Unanswered:
    """The store's table client, but every shard's catch-up loses its answer before the service saw it (a link
    that resets, or a request that times out, again and again): the SDK retries no POST."""

    def __init__(self, table):
        self._table, self._lock = table, threading.Lock()
        self.sent = 0

    def submit_transaction(self, ops):
        from tools.faults import transaction_kind

        if transaction_kind(list(ops)) != "catch-up":
            return self._table.submit_transaction(ops)
        with self._lock:
            self.sent += 1
        raise ServiceResponseError("Connection aborted: Connection reset by peer")

    def __getattr__(self, name):
        return getattr(self._table, name)


def test_a_catch_up_that_never_gets_an_answer_fails_the_message_soon_and_as_what_it_is(sharded, release_name):
    """A lost answer is sent again once after a read; a second one fails the message with the storage error, as
    any other, for its redelivery: not ten times per shard, nor as a write conflict that starts the message over
    (review-cc: 10 conflict attempts x 10 sends per shard)."""
    stack = Stack(sharded)
    stack.service.apply(validate_plan(plan(release_name)))
    ready(stack, release_name, NAMES[:-1])
    last = NAMES[-1]
    stack.service.handle(event("asset-replicated", release_name, last, f"a-{last}", asset=f"vm-{last}"))
    cut = Unanswered(stack.store.table)
    stack.store.table = cut
    with pytest.raises(ServiceResponseError):
        stack.service.handle(event("tests-passed", release_name, last, "t-last"))
    assert cut.sent <= 2 * 3  # at most two sends for each of the three shards
    stack.store.table = cut._table  # the link mends: the redelivery finishes the move
    again = stack.service.handle(event("tests-passed", release_name, last, "t-last"))
    assert again.outcome == "duplicate"
    stored = rows(stack, release_name)
    assert all(stored[f"w.{i // 2:04d}.{n}"]["state"] == "promoted" for i, n in enumerate(NAMES))
