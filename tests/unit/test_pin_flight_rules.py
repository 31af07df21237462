"""Facts and flights through the service (shared/domain/machine/rules/lifecycle.py, flight.py): replication,
test results, verdicts, alerts, the bake timer and `advance`, with the exact reasons history shows."""

from __future__ import annotations

from datetime import timedelta

from tests.fakes import T0
from tests.unit.test_finish import lag, synced_plan
from tests.unit.test_machine import APPROVER, Driver, make_plan

START_MS = 1795730400000  # T0 in epoch milliseconds


def said(*results) -> list[tuple[str, str]]:
    return [(str(r.outcome), r.reason) for r in results]


def ready(d: Driver) -> Driver:
    d.replicate()
    d.send("tests-passed")
    return d


def test_replication_and_test_results():
    d = Driver(make_plan("flight", approval="manual"))
    assert said(
        d.send("asset-replicated", asset="zz"),
        d.send("asset-replicated", asset="a"),
        d.send("asset-replicated", asset="a"),
        d.send("tests-passed", suite="smoke", run="42"),
        d.send("tests-failed", run="7"),
    ) == [
        ("rejected", "asset 'zz' is not part of workload w1"),
        ("applied", "asset a replicated (1/2)"),
        ("ignored", "asset a was already replicated"),
        ("rejected", "tests result (suite smoke run 42) while replicating: 1 asset(s) not replicated yet (b)"),
        ("rejected", "tests result (run 7) while replicating: 1 asset(s) not replicated yet (b)"),
    ]
    d.override("approve", APPROVER)  # an early approval
    assert said(
        d.send("asset-replicated", asset="b"),
        d.send("tests-failed", suite="s"),
        d.send("tests-passed"),
        d.send("tests-passed"),
        d.send("tests-failed"),
    ) == [
        ("applied", "asset b replicated (2/2) -> testing"),
        (
            "applied",
            "tests failed (suite s): waiting for a passing run; approval withdrawn: approve again once tests pass",
        ),
        ("applied", "tests passed -> ready"),
        ("ignored", "tests already passed"),
        ("applied", "tests failed: back to testing -> testing"),
    ]
    d.override("approve", APPROVER)
    assert said(d.send("tests-passed"), d.send("tests-passed", suite="late")) == [
        ("applied", "tests passed -> flighting (flight 1, 10%); network: fake r1/w1: share 0 -> 10"),
        ("ignored", "tests result (suite late) arrived while flighting; it changes nothing now"),
    ]


def test_results_after_a_rollback_or_a_promotion():
    d = ready(Driver(make_plan("single-step")))
    assert said(d.send("asset-replicated", asset="a")) == [
        (
            "ignored",
            "asset a replicated after promotion: the link to the source was severed at promotion; WARNING: changes "
            "made on the source since then are lost",
        )
    ]
    d.override("rollback")
    assert said(d.send("tests-passed")) == [
        ("rejected", "workload is rolled back: send override retry before new test results")
    ]
    d = Driver(make_plan("single-step"))
    d.override("abort")
    assert said(d.send("asset-replicated", asset="a")) == [("ignored", "workload is aborted")]


def test_verdicts_and_the_bake_timer():
    d = ready(Driver(make_plan("flight")))
    assert said(
        d.send("flight-healthy", flight=2),
        d.send("flight-healthy", flight=1, time=T0 - timedelta(seconds=6)),
        d.send("flight-healthy", flight=1, time=T0 - timedelta(seconds=5)),
        d.send("flight-healthy", flight=1),
        d.send("bake-elapsed", flight=1, attempt=0, started_ms=1),
        d.send("bake-elapsed", flight=1, attempt=1, started_ms=START_MS),
        d.send("bake-elapsed", flight=1, attempt=0, started_ms=START_MS),
    ) == [
        ("ignored", "verdict for flight 2; the current flight is 1"),
        ("ignored", "verdict issued at 2026-11-26T21:59:54Z, before flight 1 began"),
        ("applied", "flight 1 healthy; bake time left 30s"),
        ("ignored", "flight 1 was already reported healthy; bake time not over"),
        ("ignored", "bake timer for flight 1 (attempt 0) is stale"),
        ("ignored", "bake timer for flight 1 (attempt 1) is stale"),
        ("ignored", "bake timer arrived early; rescheduled for 2026-11-26T22:00:30Z"),
    ]
    assert said(*d.tick(30)) == [
        (
            "applied",
            "bake time of flight 1 over and healthy -> flighting (flight 2, 50%); network: fake r1/w1: share 10 -> 50",
        ),
        ("duplicate", f"id 'bake-elapsed:r1:w1:0:1:{START_MS}:{START_MS}' was seen before"),
    ]
    assert said(d.send("alert", severity="Sev1", description="5xx")) == [
        (
            "applied",
            "alert (Sev1): 5xx: rolled back to 0% (on_alert: rollback) -> rolled-back (0%); network: fake r1/w1: "
            "share 50 -> 0",
        )
    ]
    assert said(d.send("flight-unhealthy", flight=1)) == [
        ("ignored", "verdict for flight 1 but the workload is rolled-back")
    ]


def test_a_paused_flight_s_bake_and_verdicts():
    d = ready(Driver(make_plan("flight")))
    d.override("pause")
    d.w.clock.advance(30)
    assert said(
        d.send("bake-elapsed", flight=1, attempt=0, started_ms=START_MS),
        d.send("flight-healthy", flight=1),
        d.send("flight-healthy", flight=1),
    ) == [
        ("ignored", "bake time of flight 1 over; paused"),
        ("applied", "flight 1 healthy and baked"),
        ("ignored", "flight 1 was already reported healthy; paused"),
    ]


def test_a_healthy_verdict_must_come_after_the_trouble():
    d = ready(Driver(make_plan("flight", on_alert="pause")))
    d.w.clock.advance(60)
    assert said(d.send("alert", severity="Sev3")) == [("applied", "alert (Sev3): paused at 10% (on_alert: pause)")]
    d.override("resume")
    assert said(
        d.send("flight-healthy", flight=1, time=T0 + timedelta(seconds=54)),
        d.send("flight-healthy", flight=1, time=T0 + timedelta(seconds=55)),
    ) == [
        (
            "ignored",
            "verdict issued at 2026-11-26T22:00:54Z, before the alert of 2026-11-26 22:01:00Z: flight 1 needs a "
            "healthy verdict from after it",
        ),
        ("applied", "flight 1 healthy and baked -> flighting (flight 2, 50%); network: fake r1/w1: share 10 -> 50"),
    ]


def test_alerts_outside_flights_and_during_hypercare():
    d = ready(Driver(make_plan("single-step", hypercare="1h", on_alert="pause")))
    assert said(d.send("alert", description="x")) == [
        ("applied", "alert: x during hypercare: paused at 100% (on_alert: pause)")
    ]
    d.override("resume")
    d.tick(3600)
    assert said(d.send("alert", description="x")) == [
        (
            "ignored",
            "alert: x while promoted; on_alert applies during flights; roll back with override rollback if needed",
        )
    ]
    d = Driver(make_plan("single-step"))
    assert said(d.send("alert")) == [("ignored", "alert while replicating; on_alert applies during flights")]


def test_a_judge_s_measured_values_are_in_the_reason():
    d = ready(Driver(make_plan("flight")))
    checks = [
        {"name": "errors", "value": 7, "samples": 3, "max": 5, "passed": False, "outcome": "failed", "in_a_row": 2}
    ]
    assert said(d.send("flight-unhealthy", flight=1, checks=checks, evaluation=3, cause="failed")) == [
        (
            "applied",
            "flight 1 unhealthy (judge evaluation 3: errors 7 FAILED (max 5, 3 samples), 2 in a row): rolled back to "
            "0% (on_alert: rollback) -> rolled-back (0%); network: fake r1/w1: share 10 -> 0",
        )
    ]


def test_advance_by_hand():
    d = Driver(make_plan("flight"))
    assert said(d.override("advance", APPROVER)) == [
        ("rejected", "advance applies to a flighting workload; this one is replicating")
    ]
    ready(d)
    d.override("pause")
    assert said(d.override("advance", APPROVER)) == [("rejected", "workload is paused: resume first")]
    d.override("resume")
    assert said(d.override("advance", APPROVER), d.override("advance", APPROVER), d.override("advance", APPROVER)) == [
        (
            "applied",
            "advanced by hand from flight 1 (10%) to flight 2 -> flighting (flight 2, 50%); network: fake r1/w1: "
            "share 10 -> 50",
        ),
        (
            "applied",
            "advanced by hand from flight 2 (50%) to flight 3 -> flighting (flight 3, 100%); network: fake r1/w1: "
            "share 50 -> 100",
        ),
        ("applied", "advanced by hand from flight 3 (100%) to promoted -> promoted"),
    ]


def test_advance_inside_a_denied_period_or_held_by_data_sync():
    deny = {"from": "2026-11-26T22:10:00Z", "to": "2026-11-27T00:00:00Z", "reason": "freeze"}
    d = ready(Driver(make_plan("flight", windows={"timezone": "UTC", "deny": [deny]})))
    d.w.clock.advance(11 * 60)
    assert said(d.override("advance", APPROVER)) == [
        (
            "rejected",
            "advance inside a denied period: freeze (until 2026-11-27T00:00:00Z); the plan's "
            "windows.advance_when_denied is false",
        )
    ]
    allowed = {"timezone": "UTC", "deny": [deny], "advance_when_denied": True}
    d = ready(Driver(make_plan("flight", windows=allowed)))
    d.w.clock.advance(11 * 60)
    assert said(d.override("advance", APPROVER))[0][0] == "applied"
    d = Driver(synced_plan("flight"))
    ready(d)
    lag(d, 1)
    lag(d, 30)
    assert said(d.override("advance", APPROVER)) == [
        ("rejected", "advance held by data-sync: latest lag 30s is above max_lag 5s")
    ]
