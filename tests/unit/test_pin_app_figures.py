"""figures.py pinned on small hand-made histories: the bake and verdict gates of each flight (a bake of 0s, a
flight ended right at its bake's end, the last flight, a flight past the plan's flights), the release's start
taken from a workload that went through several states in one decision, and the rollback a resume makes,
with the trouble that caused it (an alert, an unhealthy verdict, none) as the workload row remembers it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.application.figures import Interval, Rollback, Run, from_decision, from_history
from shared.domain.model import HistoryEntry, Release, Workload, WorkloadState
from shared.domain.plan import validate_plan

S = WorkloadState
T0 = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
PLAN = validate_plan(
    {
        "release": "wave-9",
        "model": "flight",
        "approval": "manual",
        "approvers": ["ana@contoso.com"],
        "flights": [{"percent": 10, "bake": "1m"}, {"percent": 50, "bake": "0s"}, {"percent": 100, "bake": "2m"}],
        "workloads": [{"name": "payroll", "assets": ["vm-web"]}, {"name": "ledger", "assets": ["vm-app"]}],
    }
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def entry(seconds, type, reason, frm, to, share=None, workload="payroll", actor=None) -> HistoryEntry:
    return HistoryEntry(at(seconds), f"ev-{seconds}", type, "applied", reason, workload, frm, to, share, actor=actor)


def test_each_flight_is_baked_for_its_own_bake_then_waits_for_a_verdict():
    history = [
        entry(0, "tests-passed", "tests passed", "testing", "ready", 0),
        entry(20, "override", "approved; -> flighting (flight 1, 10%)", "ready", "flighting", 10, actor="ana"),
        # flight 1 ends exactly as its 1m bake does: no verdict wait at all (not an empty one)
        entry(
            80,
            "flight-healthy",
            "flight 1 healthy and baked; -> flighting (flight 2, 50%)",
            "flighting",
            "flighting",
            50,
        ),  # fmt: skip
        # flight 2 bakes 0s: all of it is the verdict wait (no empty bake)
        entry(
            110,
            "flight-healthy",
            "flight 2 healthy and baked; -> flighting (flight 3, 100%)",
            "flighting",
            "flighting",
            100,
        ),  # fmt: skip
        # flight 3, the plan's last, bakes its own 2m
        entry(300, "flight-healthy", "flight 3 healthy and baked: promoted", "flighting", "promoted", 100),
    ]
    f = from_history(PLAN, history)
    assert f.flights == [
        Interval("payroll", "flighting", at(20), at(80), flight=1),
        Interval("payroll", "flighting", at(80), at(110), flight=2),
        Interval("payroll", "flighting", at(110), at(300), flight=3),
    ]
    assert f.gates == [
        Interval("payroll", "tests", at(0), at(0), True),  # history starts at its first entry: partial
        Interval("payroll", "approval", at(0), at(20)),
        Interval("payroll", "bake", at(20), at(80), False, 1),
        Interval("payroll", "verdict", at(80), at(110), False, 2),
        Interval("payroll", "bake", at(110), at(230), False, 3),
        Interval("payroll", "verdict", at(230), at(300), False, 3),
    ]


def test_a_flight_past_the_plans_flights_has_no_bake():
    """A plan amended to fewer flights while a workload flew a later one: that flight has no bake to wait."""
    history = [
        entry(0, "override", "approved; -> flighting (flight 4, 100%)", "ready", "flighting", 100, actor="ana"),
        entry(50, "flight-healthy", "flight 4 healthy and baked: promoted", "flighting", "promoted", 100),
    ]
    f = from_history(PLAN, history)
    assert f.flights == [Interval("payroll", "flighting", at(0), at(50), flight=4)]
    assert f.gates == [
        Interval("payroll", "approval", at(0), at(0), True),
        Interval("payroll", "verdict", at(0), at(50), False, 4),
    ]


def release(**workloads: Workload) -> Release:
    return Release(PLAN, dict(workloads))


def test_a_workload_that_moved_several_states_in_one_decision_still_starts_the_release():
    """payroll left replicating and reached promoted in one decision (started_at == state_since): its start is
    the release's, although only an aborted workload with those equal is left out as never started."""
    before = release(
        payroll=Workload("payroll", S.PROMOTED, started_at=at(0), state_since=at(0), traffic_percent=100),
        ledger=Workload(
            "ledger",
            S.FLIGHTING,
            started_at=at(5),
            state_since=at(30),
            flight=1,
            flight_started_at=at(30),
            traffic_percent=10,
        ),  # fmt: skip
    )
    reason = "flight 1 unhealthy: rolled back to 0% (on_alert: rollback)"
    history = [entry(100, "flight-unhealthy", reason, "flighting", "rolled-back", 0, workload="ledger")]
    f = from_decision(before, history)
    assert f.releases == [Run(None, "rolled-back", at(0), at(100))]
    assert f.state == "rolled-back"
    assert f.rollbacks == [Rollback("ledger", at(100), "verdict", "flighting", 10, 1, 0.0, "ev-100", None, reason)]


RESUME = "resumed after 1m; acknowledges the alert recorded while paused: rolls back to 0% (on_alert: rollback)"


@pytest.mark.parametrize(
    ("remembered", "trouble_at", "cause", "after"),
    [
        ("alert (Sev2): cpu at 2026-12-01 10:01:00Z", 60, "alert", 90.0),
        ("flight 2 unhealthy at 2026-12-01 10:01:00Z", 60, "verdict", 90.0),
        # trouble recorded the very moment the workload entered its state counts (>=)
        ("flight 2 unhealthy at 2026-12-01 10:00:30Z", 30, "verdict", 120.0),
        (None, None, "operator", None),  # nothing recorded while paused: the operator's own rollback
    ],
)
def test_a_resume_rolls_back_for_the_trouble_recorded_while_paused(remembered, trouble_at, cause, after):
    w = Workload(
        "payroll", S.FLIGHTING, paused=True, paused_at=at(40), alert_while_paused=remembered,
        trouble_at=None if trouble_at is None else at(trouble_at), state_since=at(30), started_at=at(0), flight=2,
        flight_started_at=at(30), traffic_percent=50,
    )  # fmt: skip
    history = [entry(150, "override", RESUME, "flighting", "rolled-back", 0, actor="ops")]
    f = from_decision(release(payroll=w, ledger=Workload("ledger")), history)
    assert f.rollbacks == [Rollback("payroll", at(150), cause, "flighting", 50, 2, after, "ev-150", "ops", RESUME)]
    assert [g for g in f.gates if g.name == "paused"] == [Interval("payroll", "paused", at(40), at(150))]


def test_a_pause_time_left_on_an_unpaused_row_is_no_pause():
    w = Workload(
        "payroll", S.FLIGHTING, paused=False, paused_at=at(40), state_since=at(30), started_at=at(0), flight=2,
        flight_started_at=at(30), traffic_percent=50,
    )  # fmt: skip
    history = [entry(150, "override", "rollback: rolled back to 0%", "flighting", "rolled-back", 0, actor="ops")]
    f = from_decision(release(payroll=w, ledger=Workload("ledger")), history)
    assert [g.name for g in f.gates] == ["verdict"]
    assert f.rollbacks[0].cause == "operator"


def test_a_history_begun_midway_replays_the_release_from_the_states_its_entries_found():
    """ledger's one entry found it promoted: payroll's rollback ends the release (rolled back); payroll's retry
    takes the release out of that end again."""
    history = [
        entry(0, "alert", "alert while promoted", "promoted", "promoted", 100, workload="ledger"),
        entry(10, "flight-unhealthy", "flight 1 unhealthy: rolled back to 0%", "flighting", "rolled-back", 0),
    ]
    f = from_history(PLAN, history)
    assert (f.state, f.ended) == ("rolled-back", at(10))
    f = from_history(PLAN, [*history, entry(20, "override", "retry", "rolled-back", "testing", 0, actor="ops")])
    assert (f.state, f.ended) == ("in-progress", None)


AUTO = validate_plan(
    {
        "release": "wave-10",
        "model": "flight",
        "approval": "auto",
        "approvers": ["ana@contoso.com"],
        "hypercare": "1m",
        "flights": [{"percent": 10, "bake": "1m"}, {"percent": 100, "bake": "0s"}],
        "workloads": [{"name": "payroll", "assets": ["vm-web"]}],
    }
)


def test_an_automatic_release_a_repeated_flight_hypercare_and_a_rollback_after_promotion():
    history = [
        entry(0, "tests-passed", "tests passed", "testing", "ready", 0),
        # no flight named: the first flight
        entry(10, "release-timer", "released", "ready", "flighting", 10),
        # the flight it is in, named again (a resume): no new flight
        entry(40, "override", "resumed -> flighting (flight 1, 10%)", "flighting", "flighting", 10, actor="ops"),
        entry(100, "flight-healthy", "flight 1 healthy and baked: promoted", "flighting", "promoted", 100),
        entry(250, "override", "rollback: rolled back to 0%", "promoted", "rolled-back", 0, actor="ops"),
    ]
    f = from_history(AUTO, history)
    assert f.flights == [Interval("payroll", "flighting", at(10), at(100), flight=1)]
    assert f.gates == [
        Interval("payroll", "tests", at(0), at(0), True),
        Interval("payroll", "release", at(0), at(10)),  # automatic approval: waiting for the release, not a person
        Interval("payroll", "bake", at(10), at(70), False, 1),
        Interval("payroll", "verdict", at(70), at(100), False, 1),
        Interval("payroll", "hypercare", at(100), at(160)),
        Interval("payroll", "finalize", at(160), at(250)),
    ]
    assert f.rollbacks == [
        Rollback("payroll", at(250), "operator", "promoted", 100, None, None, "ev-250", "ops",
                 "rollback: rolled back to 0%")
    ]  # fmt: skip


def test_a_decision_that_leaves_a_release_at_the_end_it_was_at_is_no_new_end():
    """Rolled back already (payroll rolled back, ledger promoted): ledger rolling back too ends nothing again."""
    before = release(
        payroll=Workload("payroll", S.ROLLED_BACK, started_at=at(0), state_since=at(50)),
        ledger=Workload("ledger", S.PROMOTED, started_at=at(5), state_since=at(40), traffic_percent=100),
    )
    history = [entry(100, "override", "rollback: rolled back to 0%", "promoted", "rolled-back", 0, workload="ledger")]
    f = from_decision(before, history)
    assert (f.state, f.ended, f.releases) == ("rolled-back", None, [])
