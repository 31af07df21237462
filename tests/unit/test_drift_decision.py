"""Drift is a decision of the machine: decide_drift() re-applies or only reports, per on_drift (pure)."""
from __future__ import annotations

from shared.domain.machine import DriftSeen, SetTraffic, decide_drift
from shared.domain.model import new_release
from shared.domain.plan import validate_plan
from tests.fakes import T0


def _release(on_drift: str):
    plan = validate_plan({"release": "r1", "model": "single-step", "on_drift": on_drift,
                          "workloads": [{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}]})
    release = new_release(plan)
    return release.evolve(workloads={**release.workloads,
                                     "w1": release.workloads["w1"].evolve(state="promoted", traffic_percent=100)})


def test_reapply_sets_the_recorded_share_again_every_time_it_drifts():
    release = _release("reapply")
    seen = [DriftSeen("w1", 40, "drift on x: live 40%, state says 100%")]
    decision = decide_drift(release, seen, T0, {})
    assert [(e.workload, e.percent) for e in decision.effects if isinstance(e, SetTraffic)] == [("w1", 100)]
    [entry] = decision.entries
    assert (entry.type, entry.outcome, entry.traffic_percent) == ("drift-check", "applied", 100)
    assert entry.reason == "drift on x: live 40%, state says 100%; re-applying 100% (on_drift: reapply)"
    assert decision.release.seq == release.seq + 1
    again = decide_drift(release, seen, T0, {"w1": entry})  # the same drift again: re-applied again
    assert again.effects and again.entries


def test_report_records_a_drift_once_and_never_moves_users():
    release = _release("report")
    seen = [DriftSeen("w1", 40, "drift on x")]
    decision = decide_drift(release, seen, T0, {})
    assert decision.effects == [] and decision.entries[0].outcome == "ignored"
    assert decision.entries[0].reason == "drift on x; reported only (on_drift: report)"
    assert decide_drift(release, seen, T0, {"w1": decision.entries[0]}).entries == []
    assert decide_drift(release, [DriftSeen("w1", 100, "no drift")], T0, {}).entries == []  # live equals state
