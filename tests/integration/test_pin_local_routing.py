"""promote's own routing records on a real Azurite (shared/adapters/routing/local.py): the row each share is,
the change each move reports, a release-level move in transactions of at most 100, and the access record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.adapters.routing.local import LocalAccessRevoker, LocalBatch, LocalRouter
from shared.application.bootstrap import Stack
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


def test_a_release_level_move_writes_only_what_differs(table):
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
    written = row(table, "wave-1", "cart")
    assert isinstance(written.pop("changed_at"), datetime)
    assert written == {"PartitionKey": "wave-1", "RowKey": "cart", "traffic_percent": 50}
    assert batch.live() == {"shop": 10, "cart": 50}
    assert LocalBatch(table, "wave-2").live() == {}


def test_a_move_of_more_than_100_records_is_written_in_transactions_of_at_most_100(table):
    batch = LocalBatch(table, "wave-big")
    percents = {f"w{i:03}": 10 for i in range(201)}  # 100 + 100 + 1
    made = batch.apply(percents)
    assert all(
        made[w] == [Change(f"local routing record wave-big/{w}", "traffic_percent", "0", "10")] for w in percents
    )
    assert batch.live() == percents
    again = batch.apply({**percents, "w200": 100})
    assert again["w200"] == [Change("local routing record wave-big/w200", "traffic_percent", "10", "100")]
    assert sum(bool(c) for c in again.values()) == 1


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
