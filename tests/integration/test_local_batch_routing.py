"""promote's own routing records moved release-wide (a staged promotion, a release-wide rollback): the release's
partition read once and the shares that differ written as one record, not a read and a write per workload one
after another (5,000 workloads: 10,000 requests at first, then 50 transactions of 100, now a read and a write)."""

from __future__ import annotations

from azure.core.exceptions import ServiceResponseError

from bench.metering import RequestCounter
from shared.adapters.routing.local import LocalBatch, LocalRouter
from shared.application.bootstrap import Stack
from shared.application.config import ROUTING_TABLE
from shared.domain.plan import validate_plan
from tests.fakes import event


def test_a_batch_reads_once_and_writes_one_record_and_again_writes_nothing(settings, release_name):
    counter = RequestCounter()
    table = Stack(settings, request_hook=counter).table(ROUTING_TABLE)
    names = [f"w{i:04d}" for i in range(250)]
    LocalRouter(table, release_name, "w0007").apply(10)  # one already routed: its change starts at 10
    counter.reset()
    made = LocalBatch(table, release_name).apply(dict.fromkeys(names, 100))
    # 250 shares: the shares record read, then the partition (records first, shares last: never torn), one write
    assert dict(counter.by_kind) == {"point-read": 1, "query": 1, "post": 1}
    assert [str(c) for c in made["w0007"]] == [f"local routing record {release_name}/w0007: traffic_percent 10 -> 100"]
    assert all(len(made[n]) == 1 for n in names)
    assert {LocalRouter(table, release_name, n).read() for n in names} == {100}
    counter.reset()
    again = LocalBatch(table, release_name).apply(dict.fromkeys(names, 100) | {"w0003": 0})
    assert dict(counter.by_kind) == {"point-read": 1, "query": 1, "put": 1}  # the next generation, If-Match
    assert [n for n, changes in again.items() if changes] == ["w0003"]
    assert LocalRouter(table, release_name, "w0003").read() == 0
    counter.reset()
    assert not any(LocalBatch(table, release_name).apply(dict.fromkeys(names, 100) | {"w0003": 0}).values())
    assert dict(counter.by_kind) == {"point-read": 1, "query": 1}  # in place: nothing written


class LosesAnswer:
    """A routing table whose first write of the shares record is applied but its answer lost (a kept-alive
    connection closed under the response): the SDK raises ServiceResponseError and retries no POST."""

    def __init__(self, inner):
        self.inner, self.lost = inner, 0

    def create_entity(self, *args, **kwargs):
        result = self.inner.create_entity(*args, **kwargs)
        if not self.lost:
            self.lost += 1
            raise ServiceResponseError("Connection aborted: Connection reset by peer")
        return result

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_batch_whose_answer_is_lost_reads_it_back_and_writes_it_once(settings, release_name):
    counter = RequestCounter()
    table = Stack(settings, request_hook=counter).table(ROUTING_TABLE)
    names = [f"w{i:04d}" for i in range(250)]
    lossy = LosesAnswer(table)
    counter.reset()
    made = LocalBatch(lossy, release_name).apply(dict.fromkeys(names, 100))  # type: ignore[arg-type]
    assert lossy.lost == 1 and all(len(made[n]) == 1 for n in names), "the changes it made, as first read"
    assert dict(counter.by_kind) == {"point-read": 2, "query": 2, "post": 1}, "read back: in place, not written again"
    assert {LocalRouter(table, release_name, n).read() for n in names} == {100}


def staged_one_test_short(settings, release_name: str):
    """A staged release of 6 workloads, every one replicated and all but the last tested: the last workload's
    tests move the release at once. (its stack's request counter, the stack, the workload names)"""
    counter = RequestCounter()
    stack = Stack(settings, request_hook=counter)
    workloads = [f"w{i}" for i in range(6)]
    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "staged",
                "approval": "auto",
                "approvers": ["ana@contoso.com"],
                "workloads": [{"name": n, "assets": ["vm-1"]} for n in workloads],
            }
        )
    )
    for n in workloads:
        stack.service.handle(event("asset-replicated", release_name, n, f"{n}-a", asset="vm-1"))
    for n in workloads[:-1]:
        stack.service.handle(event("tests-passed", release_name, n, f"{n}-t"))
    return counter, stack, workloads


def test_a_staged_promotion_moves_every_local_record_in_one_read_and_one_transaction(settings, release_name):
    counter, stack, workloads = staged_one_test_short(settings, release_name)
    table = stack.table(ROUTING_TABLE)
    routing_requests = RequestCounter()
    moving = Stack(settings, request_hook=routing_requests)
    moving.table(ROUTING_TABLE)  # created up front, as in a warm function app
    moving.store.get_release(release_name)
    routing_requests.reset()
    assert moving.service.handle(event("tests-passed", release_name, workloads[-1], "last-t")).outcome == "applied"
    release = moving.store.get_release(release_name).release
    assert {w.state for w in release.workloads.values()} == {"promoted"}
    assert {LocalRouter(table, release_name, n).read() for n in workloads} == {100}
    # the move's routing: one read of the release's records and one write, never 6 reads and 6 writes
    assert routing_requests.by_kind["point-read"] == 1  # the shares record (none yet), before the partition
    assert routing_requests.by_kind["post"] == 1  # the shares record, created
    assert routing_requests.by_kind["transaction"] <= 1  # the release's commit


class AzureProjection:
    """A TableClient that answers a query with $select as Azure does: a selected property an entity does not have
    comes back as null (Azurite leaves it out, Azure/Azurite#2535)."""

    def __init__(self, inner):
        self.inner = inner

    def query_entities(self, *args, select=None, **kwargs):
        for row in self.inner.query_entities(*args, select=select, **kwargs):
            for name in select or ():
                row.setdefault(name, None)
            yield row

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_batch_over_a_partition_with_access_and_decommission_records_reads_them_as_azure_answers(
    settings, release_name
):
    from types import SimpleNamespace

    from shared.adapters.decommission.local import LocalDecommissioner
    from shared.adapters.routing.local import LocalAccessRevoker
    from shared.domain.plan import RevokeAccess

    table = Stack(settings).table(ROUTING_TABLE)
    LocalAccessRevoker(table).revoke(release_name, RevokeAccess(provider="local", source_prefixes=["10.1.0.0/24"]))
    LocalDecommissioner(table).decommission(release_name, SimpleNamespace(workload="w1", assets=("vm-1",), actor="ops"))
    LocalRouter(table, release_name, "w1").apply(100)
    made = LocalBatch(AzureProjection(table), release_name).apply({"w1": 0, "w2": 0, "w3": 100})
    assert {n: [str(c) for c in changes] for n, changes in made.items()} == {
        "w1": [f"local routing record {release_name}/w1: traffic_percent 100 -> 0"],
        "w2": [],
        "w3": [f"local routing record {release_name}/w3: traffic_percent 0 -> 100"],
    }
    assert [LocalRouter(table, release_name, n).read() for n in ("w1", "w2", "w3")] == [0, 0, 100]


class CutShort:
    """A router factory whose first local batch fails once its records are written, as a move whose last
    transaction was refused (or whose next effect failed): the decision fails and its routing is put back."""

    def __init__(self, inner):
        self.inner, self.failed = inner, 0

    def local_batch(self, release):
        batch, factory = self.inner.local_batch(release), self

        class Failing:
            def apply(self, percents):
                made = batch.apply(percents)
                if factory.failed:  # the put-back goes through
                    return made
                factory.failed += 1
                raise ConnectionError("the storage account closed the connection (transaction 2 of 2)")

        return Failing()

    def __call__(self, release, workload, routing):
        return self.inner(release, workload, routing)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_failed_release_wide_move_puts_the_local_records_back_as_one_batch_too(settings, release_name):
    counter, stack, workloads = staged_one_test_short(settings, release_name)
    failing = CutShort(stack.service.routers)
    stack.service.routers = failing
    table = stack.table(ROUTING_TABLE)
    counter.reset()
    stack.service.handle(event("tests-passed", release_name, workloads[-1], "last-t"))
    spent = dict(counter.by_kind)
    assert failing.failed == 1
    assert {LocalRouter(table, release_name, n).read() for n in workloads} == {0}, "every record put back"
    # the put-back: one more read of the partition and one write, not a read and a write per workload
    assert spent["point-read"] <= 2 and spent["query"] <= 3 and spent["put"] == 1, spent


class DiesBeforeWriting:
    """A routing table whose host is killed after reading the partition, before the move's one write."""

    def __init__(self, inner):
        self.inner = inner

    def create_entity(self, *args, **kwargs):
        raise ConnectionError("host killed")

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_move_cut_short_leaves_nothing_moved_and_its_redelivery_moves_all_at_once(settings, release_name):
    counter = RequestCounter()
    table = Stack(settings, request_hook=counter).table(ROUTING_TABLE)
    names = [f"w{i:03d}" for i in range(250)]
    try:
        LocalBatch(DiesBeforeWriting(table), release_name).apply(dict.fromkeys(names, 100))
    except ConnectionError:
        pass
    assert LocalBatch(table, release_name).live() == {}, "nothing moved: a move is one write"
    counter.reset()
    made = LocalBatch(table, release_name).apply(dict.fromkeys(names, 100))
    assert dict(counter.by_kind) == {"point-read": 1, "query": 1, "post": 1}
    assert sum(1 for changes in made.values() if changes) == 250
    assert LocalBatch(table, release_name).live() == dict.fromkeys(names, 100)


def test_verifying_a_releases_local_routing_reads_its_partition_once_and_still_sees_a_drift(settings, release_name):
    from shared.application.drift import verify_release

    counter, stack, workloads = staged_one_test_short(settings, release_name)
    stack.service.handle(event("tests-passed", release_name, workloads[-1], "last-t"))
    release = stack.store.get_release(release_name).release
    counter.reset()
    checks = verify_release(release, stack.service.routers)
    assert dict(counter.by_kind) == {"point-read": 1, "query": 1}, "the shares record and the partition, once"
    assert [(c.workload, c.live_percent, c.drift) for c in checks] == [(n, 100, False) for n in workloads]
    LocalRouter(stack.table(ROUTING_TABLE), release_name, "w2").apply(0)  # someone moved one record by hand
    drifted = [c for c in verify_release(release, stack.service.routers) if c.drift]
    assert [(c.workload, c.live_percent) for c in drifted] == [("w2", 0)]
    assert [str(d) for d in drifted[0].differences] == [
        f"local routing record {release_name}/w2: traffic_percent 0 -> 100"
    ]
