"""promote's own routing records on a real Azurite (shared/adapters/routing/local.py): the row each share is,
the change each move reports, a release-level move as one shares record (generations deciding which holds), and
the access record."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from shared.adapters.routing.local import (
    ATTEMPTS,
    CHUNK,
    SHARES_ROW,
    LocalAccessRevoker,
    LocalBatch,
    LocalRouter,
    Shares,
)
from shared.application.bootstrap import Stack
from shared.domain.errors import ConflictError
from shared.domain.plan import RevokeAccess
from shared.domain.routing import Change


@pytest.fixture
def table(settings):
    """A routing table of this test's own: nothing else writes it."""
    return Stack(settings).table(f"pinrouting{uuid.uuid4().hex[:12]}")


def row(table, release: str, workload: str) -> dict:
    return dict(table.get_entity(release, workload))


def test_a_workload_never_routed_is_at_0_and_a_move_writes_its_share_once(table):
    router = LocalRouter(table, "wave-1", "shop")
    assert router.read() == 0
    assert router.problems([0, 10, 100]) == []
    assert router.describe() == "local routing record wave-1/shop"
    assert router.diff(0) == []
    assert router.diff(10) == [Change("local routing record wave-1/shop", "traffic_percent", "0", "10")]
    assert router.read() == 0  # a diff writes nothing

    before = datetime.now(UTC)
    assert router.apply(10) == [Change("local routing record wave-1/shop", "traffic_percent", "0", "10")]
    written = row(table, "wave-1", "shop")
    changed_at = written.pop("changed_at")
    assert written == {"PartitionKey": "wave-1", "RowKey": "shop", "traffic_percent": 10}
    assert before <= changed_at <= datetime.now(UTC)
    assert router.read() == 10

    etag = table.get_entity("wave-1", "shop").metadata["etag"]
    assert router.apply(10) == []  # in place: nothing written
    assert table.get_entity("wave-1", "shop").metadata["etag"] == etag
    assert router.apply(100) == [Change("local routing record wave-1/shop", "traffic_percent", "10", "100")]
    assert router.read() == 100
    assert LocalRouter(table, "wave-1", "cart").read() == 0  # another workload's record is its own


def shares(table, release: str) -> Shares:
    return Shares.of(table.get_entity(release, SHARES_ROW))


def test_a_release_level_move_writes_only_what_differs_as_one_shares_record(table):
    LocalRouter(table, "wave-1", "shop").apply(10)
    LocalAccessRevoker(table).revoke("wave-1", RevokeAccess(provider="local", source_prefixes=["10.0.0.0/24"]))
    batch = LocalBatch(table, "wave-1")
    assert batch.live() == {"shop": 10}  # the access record has no share
    made = batch.apply({"shop": 10, "cart": 50, "crm": 0})
    assert made == {
        "shop": [],
        "cart": [Change("local routing record wave-1/cart", "traffic_percent", "0", "50")],
        "crm": [],  # never routed and asked 0: in place
    }
    with pytest.raises(ResourceNotFoundError):
        table.get_entity("wave-1", "cart")  # no record of its own: the move's shares hold it
    record = table.get_entity("wave-1", SHARES_ROW)
    assert (record["generation"], record["workloads"], record["chunks"]) == (1, 1, 1)
    assert isinstance(record["changed_at"], datetime)
    assert shares(table, "wave-1").entries == {"cart": (50, 1)}
    assert batch.live() == {"shop": 10, "cart": 50}
    assert LocalRouter(table, "wave-1", "cart").read() == 50
    assert LocalBatch(table, "wave-2").live() == {}
    etag = record.metadata["etag"]
    assert batch.apply({"cart": 50, "shop": 10}) == {"cart": [], "shop": []}  # in place: nothing written
    assert table.get_entity("wave-1", SHARES_ROW).metadata["etag"] == etag


def test_a_move_of_any_size_is_one_record_and_the_next_move_its_next_generation(table):
    batch = LocalBatch(table, "wave-big")
    percents = {f"w{i:03}": 10 for i in range(201)}
    made = batch.apply(percents)
    assert all(
        made[w] == [Change(f"local routing record wave-big/w{w[1:]}", "traffic_percent", "0", "10")] for w in percents
    )
    assert batch.live() == percents
    again = batch.apply({**percents, "w200": 100})
    assert again["w200"] == [Change("local routing record wave-big/w200", "traffic_percent", "10", "100")]
    assert sum(bool(c) for c in again.values()) == 1
    after = shares(table, "wave-big")
    assert after.generation == 2
    assert after.entries["w200"] == (100, 2) and after.entries["w000"] == (10, 1)  # each with the move that set it


def test_a_workloads_own_move_after_a_release_level_one_holds_and_one_before_it_does_not(table):
    LocalRouter(table, "wave-1", "shop").apply(10)  # before any release-level move: generation 0
    LocalBatch(table, "wave-1").apply({"shop": 100, "cart": 100})
    assert LocalRouter(table, "wave-1", "shop").read() == 100  # the move is later than the record
    assert LocalRouter(table, "wave-1", "cart").apply(0) == [
        Change("local routing record wave-1/cart", "traffic_percent", "100", "0")
    ]
    own = dict(table.get_entity("wave-1", "cart"))
    assert (own["traffic_percent"], own["generation"]) == (0, 1)  # written after the move it read
    assert LocalRouter(table, "wave-1", "cart").read() == 0
    assert LocalBatch(table, "wave-1").live() == {"shop": 100, "cart": 0}
    # a later move that does not name it keeps its own record, and drops the entry its record overrides
    LocalBatch(table, "wave-1").apply({"shop": 0})
    assert LocalBatch(table, "wave-1").live() == {"shop": 0, "cart": 0}
    assert "cart" not in shares(table, "wave-1").entries
    # and one that names it overrides its record
    LocalBatch(table, "wave-1").apply({"cart": 50})
    assert LocalRouter(table, "wave-1", "cart").read() == 50


def test_a_workloads_record_written_while_a_move_that_does_not_name_it_lands_still_holds(table):
    LocalBatch(table, "wave-1").apply({"shop": 100, "cart": 100})  # generation 1
    # cart's own move read generation 1, then a release-level move of shop alone landed before its write
    LocalBatch(table, "wave-1").apply({"shop": 0})  # generation 2 carries cart at (100, 1)
    table.upsert_entity({"PartitionKey": "wave-1", "RowKey": "cart", "traffic_percent": 0, "generation": 1})
    assert LocalRouter(table, "wave-1", "cart").read() == 0  # a tie goes to the workload's own record


class RacesFirstWrite:
    """A routing table on which `race` (another move, with the table itself) lands between a move's read and its
    first write (create or update); `writes` counts the move's writes."""

    def __init__(self, inner, race):
        self.inner, self.race, self.writes = inner, race, 0

    def _write(self, method: str, *args, **kwargs):
        self.writes += 1
        if self.writes == 1:
            self.race(self.inner)
        return getattr(self.inner, method)(*args, **kwargs)

    def create_entity(self, *args, **kwargs):
        return self._write("create_entity", *args, **kwargs)

    def update_entity(self, *args, **kwargs):
        return self._write("update_entity", *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("first", [False, True], ids=["first-move", "later-move"])
def test_two_release_level_moves_at_once_never_lose_one_the_second_reads_again(table, first):
    if first:
        LocalBatch(table, "wave-1").apply({"crm": 10})
    racing = RacesFirstWrite(table, lambda inner: LocalBatch(inner, "wave-1").apply({"shop": 50}))
    made = LocalBatch(racing, "wave-1").apply({"cart": 100})
    assert racing.writes == 2  # the race ran before its first write, which met it; written again after a read
    assert made == {"cart": [Change("local routing record wave-1/cart", "traffic_percent", "0", "100")]}
    live = LocalBatch(table, "wave-1").live()
    assert (live["shop"], live["cart"]) == (50, 100)  # both moves hold
    assert shares(table, "wave-1").generation == 2 + first


class Refusing:
    """A routing table whose every release-level write meets another move first (an ETag that always moved)."""

    def __init__(self, inner):
        self.inner, self.tries = inner, 0

    def create_entity(self, *args, **kwargs):
        self.tries += 1
        raise ResourceExistsError("The specified entity already exists.")

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_move_that_always_meets_another_gives_up_with_a_conflict_after_its_attempts(table):
    refusing = Refusing(table)
    with pytest.raises(ConflictError, match=f"wave-1: its routing moved under {ATTEMPTS} release-level moves"):
        LocalBatch(refusing, "wave-1").apply({"shop": 100})
    assert refusing.tries == ATTEMPTS


def test_a_move_of_5000_long_names_spans_chunks_and_reads_back_whole(table):
    names = [f"{i:04}-" + "x" * 58 for i in range(5000)]  # 63 characters, the longest a workload name is
    percents = {n: (i * 37) % 101 for i, n in enumerate(names)}
    LocalBatch(table, "wave-1").apply(percents)
    record = table.get_entity("wave-1", SHARES_ROW)
    assert record["chunks"] >= 1 and all(len(record[f"shares{i}"]) <= CHUNK for i in range(record["chunks"]))
    assert LocalBatch(table, "wave-1").live() == {n: p for n, p in percents.items() if p}
    assert LocalRouter(table, "wave-1", names[4999]).read() == percents[names[4999]]


def test_a_shares_record_packs_in_chunks_of_at_most_a_binary_propertys_size():
    rng = random.Random(22)  # names that do not compress: the shares span two chunks
    entries = {f"{i:05}-{rng.randbytes(16).hex()}": (i % 101, 1 + i % 3) for i in range(5000)}
    entity = Shares(3, entries).entity("wave-1")
    assert entity["chunks"] >= 2 and all(len(entity[f"shares{i}"]) <= CHUNK for i in range(entity["chunks"]))
    assert entity["workloads"] == 5000 and entity["generation"] == 3
    assert Shares.of(entity) == Shares(3, entries)
    assert Shares.of(None) == Shares(0, {}, None)


def test_access_is_revoked_once_with_its_rule_and_prefixes(table):
    revoker = LocalAccessRevoker(table)
    config = RevokeAccess(provider="local", rule="deny-team", source_prefixes=["10.0.0.0/24", "10.1.0.0/24"])
    assert revoker.revoked("wave-1") is False
    assert revoker.problems("wave-1", config) == []
    assert revoker.revoke("wave-1", config) == [
        Change("local access record wave-1", "deny-team", "allowed", "denied 10.0.0.0/24,10.1.0.0/24")
    ]
    assert row(table, "wave-1", "~access") == {
        "PartitionKey": "wave-1",
        "RowKey": "~access",
        "revoked": True,
        "rule": "deny-team",
        "source_prefixes": "10.0.0.0/24,10.1.0.0/24",
    }
    assert revoker.revoked("wave-1") is True
    assert revoker.revoke("wave-1", config) == []  # already revoked: nothing changes
    assert revoker.revoked("wave-2") is False


def test_an_access_record_that_says_not_revoked_is_not_revoked(table):
    table.upsert_entity({"PartitionKey": "wave-1", "RowKey": "~access", "revoked": False})
    assert LocalAccessRevoker(table).revoked("wave-1") is False
    table.upsert_entity({"PartitionKey": "wave-2", "RowKey": "~access"})
    assert LocalAccessRevoker(table).revoked("wave-2") is False


def test_a_workloads_own_write_that_lands_after_a_racing_release_level_move_holds(table):
    LocalBatch(table, "wave-1").apply({"shop": 10, "cart": 10})
    racing = RacesFirstWrite(table, lambda inner: LocalBatch(inner, "wave-1").apply({"shop": 100}))
    assert LocalRouter(racing, "wave-1", "shop").apply(5) == [
        Change("local routing record wave-1/shop", "traffic_percent", "10", "5")
    ]
    assert racing.writes == 2  # written again with the generation of the move it landed after
    assert LocalRouter(table, "wave-1", "shop").read() == 5
    assert dict(table.get_entity("wave-1", "shop"))["generation"] == 2
    assert LocalBatch(table, "wave-1").live() == {"shop": 5, "cart": 10}


@pytest.mark.parametrize("routed_before", [False, True], ids=["first-record", "record-exists"])
def test_two_moves_of_one_workload_at_once_never_write_over_each_other_unread(table, routed_before):
    if routed_before:
        LocalRouter(table, "wave-1", "shop").apply(10)
    racing = RacesFirstWrite(table, lambda inner: LocalRouter(inner, "wave-1", "shop").apply(50))
    made = LocalRouter(racing, "wave-1", "shop").apply(100)  # its write meets the other's: it reads again
    assert racing.writes == 2
    assert made == [
        Change("local routing record wave-1/shop", "traffic_percent", "10" if routed_before else "0", "100")
    ]
    assert LocalRouter(table, "wave-1", "shop").read() == 100


def test_a_workload_move_whose_answer_is_lost_reads_it_back(table):
    from azure.core.exceptions import ServiceResponseError

    class LosesAnswer:
        def __init__(self, inner):
            self.inner, self.lost = inner, 0

        def create_entity(self, *args, **kwargs):
            self.inner.create_entity(*args, **kwargs)
            self.lost += 1
            raise ServiceResponseError("Connection aborted: Connection reset by peer")

        def __getattr__(self, name):
            return getattr(self.inner, name)

    lossy = LosesAnswer(table)
    assert LocalRouter(lossy, "wave-1", "shop").apply(10) == [
        Change("local routing record wave-1/shop", "traffic_percent", "0", "10")
    ]
    assert lossy.lost == 1 and LocalRouter(table, "wave-1", "shop").read() == 10


class MovesDuringQuery:
    """A routing table on which, while a release's records are queried, a release-level move and then the
    workload's own move land (a query of several pages reads the shares record last)."""

    def __init__(self, inner):
        self.inner, self.queried = inner, 0

    def query_entities(self, *args, **kwargs):
        self.queried += 1
        if self.queried == 1:
            LocalBatch(self.inner, "wave-1").apply({"shop": 50})
            LocalRouter(self.inner, "wave-1", "shop").apply(100)
        return self.inner.query_entities(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_release_read_while_moves_land_sees_a_share_that_held_never_one_that_did_not(table):
    LocalBatch(table, "wave-1").apply({"shop": 10, "cart": 10})
    racing = MovesDuringQuery(table)
    live = LocalBatch(racing, "wave-1").live()
    assert racing.queried == 1
    assert live["shop"] == 100, "the workload's own move, written after the release-level one it read"
    assert LocalRouter(table, "wave-1", "shop").read() == 100
