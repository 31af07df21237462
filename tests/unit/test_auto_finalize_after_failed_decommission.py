"""With `decommission.approval: auto`, a workload finalizes by itself when hypercare ends. When that
decommission fails, its retry timer owns the next attempt: the messages that keep arriving meanwhile
(replication-lag reports every minute, ...) do not power the source off again each time."""

from __future__ import annotations

import json

from shared.domain.plan import validate_plan
from tests.fakes import event, world


def _promoted_with_auto_finalize():
    w = world()
    w.service.apply(
        validate_plan(
            {
                "release": "r1",
                "model": "single-step",
                "approval": "auto",
                "approvers": ["ana@contoso.com"],
                "hypercare": "30m",
                "decommission": {"approval": "auto"},
                "workloads": [{"name": "w1", "assets": ["a"]}],
            }
        )
    )
    w.service.handle(event("asset-replicated", "r1", "w1", "rep", asset="a"))
    w.service.handle(event("tests-passed", "r1", "w1", "tests"))
    assert w.store.get_release("r1").release.workloads["w1"].state == "promoted"
    return w


def _after(w, seconds: int, step: int = 1) -> None:
    """Let `seconds` pass, `step` at a time, handling every message promote scheduled for itself as it falls
    due (a few a step at most: a machine that keeps scheduling itself at once fails here rather than spins)."""
    for _ in range(seconds // step):
        w.clock.advance(step)
        for _ in range(10):
            due = w.scheduler.due(w.clock.now())
            for message in due:
                w.service.handle(json.dumps(message))
        assert not w.scheduler.due(w.clock.now()), "promote keeps scheduling messages for now"


def _workload(w):
    return w.store.get_release("r1").release.workloads["w1"]


def test_after_a_failed_auto_decommission_other_messages_do_not_decommission_again():
    w = _promoted_with_auto_finalize()
    w.decommissioner.down = True
    _after(w, 1800, step=60)  # hypercare over: finalizing by itself; the decommission fails
    assert len(w.decommissioner.requests) == 1
    assert (_workload(w).state, _workload(w).decommission_failures) == ("promoted", 1)
    for i in range(5):  # lag reports, before the retry is due (30 s after the failure)
        result = w.service.handle(event("replication-lag", "r1", "w1", f"lag-{i}", lag_seconds=1))
        assert result.outcome == "applied" and "decommission" not in result.reason
    assert len(w.decommissioner.requests) == 1 and _workload(w).decommission_failures == 1
    _after(w, 30)  # the retry timer: the one next attempt
    assert len(w.decommissioner.requests) == 2 and _workload(w).decommission_failures == 2
    w.decommissioner.down = False
    _after(w, 60)
    assert (_workload(w).state, _workload(w).finalized_by) == ("finalized", "promote")
    assert len(w.decommissioner.requests) == 3 and w.decommissioner.off == [("r1", "w1")]
