"""The table store on a real Azurite, where the pins before this one did not look: a decision with no entry (so
nothing to date it) committed at the time of the commit, an aware UTC time that a staged shard's facts are
worked out at (its windows compare it with theirs)."""

from __future__ import annotations

import dataclasses

import pytest

from shared.adapters.table_store import TableReleaseStore
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE
from shared.domain.machine import Decision
from shared.domain.plan import validate_plan
from tests.integration.test_release_shards import plan, ready, rows

OVER = {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "reason": "new year"}  # long past


@pytest.fixture
def sharded(settings):
    return Stack(dataclasses.replace(settings, shard_size=2))  # six workloads: three shards


def test_a_decision_without_entries_is_committed_at_the_current_utc_time(sharded, release_name):
    sharded.service.apply(validate_plan(plan(release_name, windows={"timezone": "UTC", "deny": [OVER]})))
    ready(sharded, release_name, ["w0", "w1"])
    store = TableReleaseStore(sharded.table(RELEASES_TABLE), shard_size=2)
    snapshot = store.get_release(release_name)
    w0 = snapshot.release.workloads["w0"].evolve(unhealthy=True)
    decision = Decision(release=snapshot.release.evolve(workloads={**snapshot.release.workloads, "w0": w0}), entries=[])
    store.commit(snapshot, decision, None)  # no `now` and no entry: now, in UTC
    found = rows(sharded, release_name)
    facts = '{"states":{"ready":2},"ready_unapproved":2,"ready":true,"ready_until":null}'  # shard 0 ready: window open
    assert (found["w.0000"]["facts"], found["s.f.0000"]["facts"]) == (facts, facts)
    assert store.get_release(release_name).release.workloads["w0"].unhealthy
