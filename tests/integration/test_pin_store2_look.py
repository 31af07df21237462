"""What a message read on one shard looks up of the rest of the release (TableReleaseStore.look): the state the
release record holds and every OTHER shard's facts, on a real Azurite."""

from __future__ import annotations

import dataclasses

import pytest

from shared.adapters.table_store import TableReleaseStore
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE
from shared.domain.machine.scope import ShardFacts
from shared.domain.model import ReleaseState, Tally, WorkloadState
from shared.domain.plan import validate_plan
from tests.fakes import event
from tests.integration.test_release_shards import plan

REPLICATING, TESTING = WorkloadState.REPLICATING, WorkloadState.TESTING


@pytest.fixture
def sharded(settings):
    return Stack(dataclasses.replace(settings, shard_size=2))  # six workloads: three shards


def test_a_shard_read_looks_up_the_release_state_and_the_other_shards_facts(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name)))
    assert sharded.service.handle(event("asset-replicated", release_name, "w0", "a-w0", asset="vm-w0")).outcome == (
        "applied"
    )
    store = TableReleaseStore(sharded.table(RELEASES_TABLE), shard_size=2)
    store.get_release(release_name)  # learns the layout: three shards
    snapshot = store.get_release(release_name, "w3", whole=False)
    assert snapshot.release.partial and snapshot.version.shard == 1
    assert store.look(snapshot) == (
        ReleaseState.IN_PROGRESS,
        [
            ShardFacts(Tally(((REPLICATING, 1), (TESTING, 1)), 0), False, None),  # shard 0: w0 testing
            ShardFacts(Tally(((REPLICATING, 2),), 0), False, None),  # shard 2; shard 1, the one read, left out
        ],
    )
