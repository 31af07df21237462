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


def _deliver_due(w, seconds: float) -> list:
    w.clock.advance(seconds)
    return [w.service.handle(json.dumps(e)) for e in w.scheduler.due(w.clock.now())]


def test_after_a_failed_auto_decommission_other_messages_do_not_decommission_again():
    w = _promoted_with_auto_finalize()
    w.decommissioner.down = True
    [hypercare_end] = _deliver_due(w, 1800)
    assert "decommission failed (1 time(s))" in hypercare_end.reason
    assert len(w.decommissioner.requests) == 1
    for i in range(5):  # lag reports, all before the retry is due (30 s after the failure)
        w.clock.advance(5)
        result = w.service.handle(event("replication-lag", "r1", "w1", f"lag-{i}", lag_seconds=1))
        assert result.outcome == "applied" and "decommission" not in result.reason
    workload = w.store.get_release("r1").release.workloads["w1"]
    assert (workload.state, workload.decommission_failures) == ("promoted", 1)
    assert len(w.decommissioner.requests) == 1
    [retry] = _deliver_due(w, 30)  # the retry timer: the one next attempt
    assert "decommission retry #1" in retry.reason and len(w.decommissioner.requests) == 2
    w.decommissioner.down = False
    _deliver_due(w, 60)
    workload = w.store.get_release("r1").release.workloads["w1"]
    assert (workload.state, workload.finalized_by) == ("finalized", "promote")
    assert len(w.decommissioner.requests) == 3 and w.decommissioner.off == [("r1", "w1")]
