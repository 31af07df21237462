"""Pure parts of the table store left unpinned: the id scope a shard's head keeps (all four of its parts) and a
catch-up refused for a lagging head that holds no facts (an invariant a commit point keeps)."""

from __future__ import annotations

import pytest

from shared.adapters.table_store.commit import catch_up_operations
from shared.adapters.table_store.layout import Layout, Read
from shared.adapters.table_store.shards import SCOPE, Head, Scope, scope_of
from shared.domain.model import Release, Workload
from shared.domain.plan import validate_plan
from tests.unit.test_machine import make_plan

PLAN = validate_plan(make_plan("single-step"))


def test_a_heads_scope_keeps_the_window_the_count_the_archive_and_how_many_were_archived():
    release = Release(
        plan=PLAN, workloads={}, seen=("0f1e2d3c4b5a6978",), processed=600, archive=b"\x01\x80", archived=88
    )
    assert scope_of(release) == Scope(("0f1e2d3c4b5a6978",), 600, b"\x01\x80", 88)
    assert SCOPE.write(scope_of(release)) == {
        "seen": "0f1e2d3c4b5a6978",
        "processed": 600,
        "archive": b"\x01\x80",
        "archived": 88,
    }


def test_a_lagging_head_without_facts_is_not_caught_up():
    layout = Layout(PLAN, "hash", 1, 1, {"w1": 0})
    head = Head(0, Scope(), epoch=0, pending_epoch=1, pending={}, facts=None, after_met=())
    read = Read("r1", layout, None, {"w.0000": "etag"}, {0: head}, {"w1": Workload(name="w1")}, {"w1": 0})
    with pytest.raises(AssertionError, match="^a commit point writes the facts of every shard it leaves pending$"):
        catch_up_operations(read, 0, None)
