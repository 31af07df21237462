"""Drift is a decision of the machine: decide_drift() re-applies or only reports, per on_drift (pure)."""

from __future__ import annotations

from datetime import timedelta

from shared.domain.machine import DriftSeen, SetTraffic, decide_drift
from shared.domain.model import HistoryEntry, new_release
from shared.domain.plan import validate_plan
from tests.fakes import T0

AT = T0 + timedelta(seconds=1, microseconds=250)


def _release(on_drift: str):
    plan = validate_plan(
        {
            "release": "r1",
            "model": "flight",
            "on_drift": on_drift,
            "flights": [{"percent": 10}, {"percent": 100}],
            "workloads": [
                {"name": "w0", "assets": ["z"]},
                {"name": "w1", "assets": ["a"], "routing": {"provider": "local"}},
                {"name": "w2", "assets": ["b"]},
            ],
        }
    )
    release = new_release(plan)
    return release.evolve(
        workloads={
            **release.workloads,
            "w1": release.workloads["w1"].evolve(state="flighting", flight=2, traffic_percent=100),
        }
    )


def _entry(release, reason: str, outcome: str, workload: str = "w1") -> HistoryEntry:
    """The whole entry a drift of w1 (flighting, flight 2, 100%) leaves, every field."""
    assert AT.isoformat() == "2026-11-26T22:00:01.000250+00:00"
    return HistoryEntry(
        at=AT,
        event_id=f"drift-check:r1:{workload}:20261126T220001.000250Z",
        type="drift-check",
        outcome=outcome,
        reason=reason,
        workload=workload,
        from_state="flighting",
        to_state="flighting",
        traffic_percent=100,
        flight=2,
        source="promote/drift",
    )


def test_reapply_sets_the_recorded_share_again_every_time_it_drifts():
    release = _release("reapply")
    # w0 did not drift (live equals state): the workloads after it are still looked at
    seen = [DriftSeen("w0", 0, "no drift"), DriftSeen("w1", 40, "drift on x: live 40%, state says 100%")]
    decision = decide_drift(release, seen, AT, {})
    assert decision.effects == [SetTraffic("w1", 100, release.plan.workload("w1").routing)]
    assert decision.entries == [
        _entry(release, "drift on x: live 40%, state says 100%; re-applying 100% (on_drift: reapply)", "applied")
    ]
    assert decision.release.seq == release.seq + 1
    again = decide_drift(release, seen, AT, {"w1": decision.entries[0]})  # the same drift again: re-applied again
    assert again.effects == decision.effects and again.entries == decision.entries


def test_report_records_a_drift_once_and_never_moves_users():
    release = _release("report")
    release = release.evolve(workloads={**release.workloads, "w2": release.workloads["w1"].evolve(name="w2")})
    seen = [DriftSeen("w1", 40, "drift on x"), DriftSeen("w2", 40, "drift on y")]
    decision = decide_drift(release, seen, AT, {})
    assert decision.effects == []
    assert decision.entries == [
        _entry(release, "drift on x; reported only (on_drift: report)", "ignored"),
        _entry(release, "drift on y; reported only (on_drift: report)", "ignored", "w2"),
    ]
    # w1's drift is already in the history: w2's, new, is still recorded after it
    last = {"w1": decision.entries[0]}
    assert decide_drift(release, seen, AT, last).entries == decision.entries[1:]
    assert decide_drift(release, [DriftSeen("w1", 100, "no drift")], AT, {}).entries == []  # live equals state
