"""Safe amends and archiving on the table store (v3 §19), on a real Azurite with a release in three shards: the
amended plan, its hash in every head and the release-level `plan-amended` entry commit at once, and a
workload's message decides on its shard under the new plan; an archived release is left out of the lists,
kept, and its archiving is in its history."""

from __future__ import annotations

import dataclasses

import pytest

from shared.adapters.table_store import BoardReads
from shared.adapters.table_store.catalog import overviews
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE
from shared.application.release_list import ArchiveRefused, archive
from shared.domain.plan import validate_plan
from tests.fakes import event
from tests.integration.test_release_shards import OPERATOR, plan, rows


@pytest.fixture
def stack(settings):
    return Stack(dataclasses.replace(settings, shard_size=2))


def test_an_amend_commits_the_plan_in_every_head_with_its_history_entry(stack, release_name):
    original = validate_plan(plan(release_name, deadlines={"testing": "1h"}))
    stack.service.apply(original)
    stack.service.handle(event("asset-replicated", release_name, "w0", "a-w0", asset="vm-w0"))
    amended = validate_plan(plan(release_name, deadlines={"testing": "30m"}, operators=["night@contoso.com"]))
    assert stack.service.apply(amended).action == "updated"
    found = rows(stack, release_name)
    assert {found[f"w.{k:04d}"]["plan_hash"] for k in range(3)} == {amended.fingerprint()}
    [entry] = [e for e in stack.store.list_history(release_name) if e.type == "plan-amended"]
    assert entry.workload is None and "deadlines:" in entry.reason and "operators:" in entry.reason
    assert stack.store.get_release(release_name).release.plan == amended
    # a message about one workload is decided on its shard, under the amended plan
    result = stack.service.handle(event("asset-replicated", release_name, "w3", "a-w3", asset="vm-w3"))
    assert result.outcome == "applied"
    assert stack.store.get_release(release_name).release.plan.operators == ["night@contoso.com"]


def test_an_archived_release_is_left_out_of_the_lists_and_kept(stack, release_name):
    stack.service.apply(validate_plan(plan(release_name)))
    with pytest.raises(ArchiveRefused, match="only a finalized or aborted release"):
        archive(stack.store, release_name, OPERATOR, "tidy", stack.clock.now())
    abort = event("override", release_name, None, "abort-1", action="abort", actor=OPERATOR, reason="cancelled")
    assert stack.service.handle(abort).outcome == "applied"
    assert archive(stack.store, release_name, OPERATOR, "wave closed", stack.clock.now()) == ("aborted", True)
    table = stack.table(RELEASES_TABLE)
    assert release_name not in {o.release.name for o in overviews(table)}
    assert release_name in {o.release.name for o in overviews(table, archived=True)}
    assert release_name not in {r.name for r, _ in BoardReads(table).list_release_summaries()}
    assert release_name in stack.store.list_releases()  # kept: the timers and readers that name it still find it
    last = stack.store.list_history(release_name)[-1]
    assert (last.type, last.actor, last.actor_reason) == ("archive", OPERATOR, "wave closed")
    assert archive(stack.store, release_name, OPERATOR, "again", stack.clock.now()) == ("aborted", False)
    # a message after archiving still commits (the record's marks survive the release's own merges)
    stack.service.handle(event("asset-replicated", release_name, "w0", "late", asset="vm-w0"))
    assert release_name not in {o.release.name for o in overviews(table)}
