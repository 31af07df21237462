"""Operators' and approvers' commands through the service (shared/domain/machine/rules/overrides.py): the
outcome and exact reason of pause, resume, approve (quorum, separate duties), rollback, abort and retry, as the
caller and history read them."""

from __future__ import annotations

from tests.unit.test_machine import APPROVER, OPERATOR, Driver, make_plan

BO = "bo@contoso.com"


def said(*results) -> list[tuple[str, str]]:
    return [(str(r.outcome), r.reason) for r in results]


def ready(d: Driver) -> Driver:
    d.replicate()
    d.send("tests-passed")
    return d


def test_a_quorum_with_separate_duties():
    plan = make_plan(
        "flight",
        approval={"mode": "manual", "quorum": 2, "separate_duties": True},
        approvers=[APPROVER, BO, OPERATOR],
        on_alert="pause",
    )
    d = Driver(plan)
    assert said(d.override("resume"), d.override("rollback"), d.override("retry")) == [
        ("ignored", "not paused"),
        ("ignored", "nothing to roll back: no users on the migrated system (replicating)"),
        ("rejected", "retry applies to a rolled-back workload; this one is replicating"),
    ]
    ready(d)
    assert said(d.override("pause", OPERATOR), d.override("pause", OPERATOR), d.override("resume", OPERATOR)) == [
        ("applied", "paused at 0%"),
        ("ignored", "already paused (by ops@contoso.com since 2026-11-26 22:00:00Z: test)"),
        ("applied", "resumed (by ops@contoso.com since 2026-11-26 22:00:00Z: test)"),
    ]
    assert said(
        d.override("approve", OPERATOR),
        d.override("approve", APPROVER),
        d.override("approve", APPROVER.upper()),
    ) == [
        (
            "rejected",
            "ops@contoso.com operated on w1 in this attempt: their approval does not count (separate_duties); "
            "0 of 2 approvals",
        ),
        ("applied", "approval counted: 1 of 2 approvals (ana@contoso.com)"),
        ("ignored", "already approved by ANA@CONTOSO.COM: 1 of 2 approvals (ana@contoso.com)"),
    ]
    assert d.wl().approvals == [{"by": APPROVER, "at": "2026-11-26T22:00:00Z"}]
    assert said(d.override("approve", BO), d.override("approve", BO)) == [
        (
            "applied",
            "approved: 2 of 2 approvals (ana@contoso.com, bo@contoso.com) -> flighting (flight 1, 10%); "
            "network: fake r1/w1: share 0 -> 10",
        ),
        ("ignored", "workload is flighting"),
    ]
    assert said(d.send("alert", description="errors"), d.override("resume", OPERATOR)) == [
        ("applied", "alert: errors: paused at 10% (on_alert: pause)"),
        ("applied", "resumed (by promote since 2026-11-26 22:00:00Z: alert: errors (on_alert: pause))"),
    ]
    assert said(d.override("abort", OPERATOR), d.override("abort", OPERATOR), d.override("rollback")) == [
        ("applied", "aborted; traffic on the source system -> aborted (0%); network: fake r1/w1: share 10 -> 0"),
        ("ignored", "already aborted"),
        ("ignored", "nothing to roll back: no users on the migrated system (aborted)"),
    ]


def test_an_alert_while_paused_needs_a_new_verdict_on_resume_with_on_alert_pause():
    d = ready(Driver(make_plan("flight", on_alert="pause")))
    assert d.routed() == 10
    d.override("pause")
    d.send("alert", description="errors")
    assert said(d.override("resume")) == [
        (
            "applied",
            "resumed (by ops@contoso.com since 2026-11-26 22:00:00Z: test); acknowledges the alert recorded while "
            "paused (alert: errors at 2026-11-26 22:00:00Z); flight 1 needs a new healthy verdict",
        )
    ]
    assert (d.wl().paused, d.wl().unhealthy, d.routed()) == (False, False, 10)


def test_an_alert_while_paused_rolls_back_on_resume_with_on_alert_rollback():
    d = ready(Driver(make_plan("flight", approval="manual")))
    d.override("approve", APPROVER)
    assert said(d.override("pause"), d.send("alert", description="errors"), d.override("resume")) == [
        ("applied", "paused at 10%"),
        ("applied", "alert: errors; recorded while paused, routing unchanged until resume"),
        (
            "applied",
            "resumed (by ops@contoso.com since 2026-11-26 22:00:00Z: test); acknowledges the alert recorded while "
            "paused (alert: errors at 2026-11-26 22:00:00Z): rolls back to 0% (on_alert: rollback) -> rolled-back "
            "(0%); network: fake r1/w1: share 10 -> 0",
        ),
    ]
    assert said(d.override("approve", APPROVER)) == [("ignored", "already approved")]


def test_single_step_rollback_warns_and_retry_passes_every_gate_again():
    d = ready(Driver(make_plan("single-step")))
    assert said(
        d.override("approve", APPROVER),
        d.override("pause"),
        d.override("abort"),
        d.override("rollback"),
        d.override("retry"),
    ) == [
        ("ignored", "approval is automatic for this release"),
        ("ignored", "workload is promoted"),
        ("rejected", "workload is promoted: use override rollback to move users back"),
        (
            "applied",
            "rolled back to 0% by hand; WARNING: the link to the source was severed, changes made since promotion "
            "are not on the source -> rolled-back (0%); network: fake r1/w1: share 100 -> 0",
        ),
        ("applied", "retry #1: back to testing -> testing"),
    ]
    w = d.wl()
    assert (w.state, w.attempt, w.tests_passed, w.approved, w.flight, w.unhealthy) == (
        "testing",
        1,
        False,
        False,
        0,
        False,
    )


def test_a_flight_rollback_by_hand_has_no_warning():
    d = ready(Driver(make_plan("flight")))
    assert said(d.override("rollback")) == [
        ("applied", "rolled back to 0% by hand -> rolled-back (0%); network: fake r1/w1: share 10 -> 0")
    ]
    assert said(d.override("retry")) == [("applied", "retry #1: back to testing -> testing")]
    assert said(d.override("retry")) == [("rejected", "retry applies to a rolled-back workload; this one is testing")]


def test_pausing_a_promoted_workload_that_will_still_finalize():
    d = ready(Driver(make_plan("single-step", hypercare="1h")))
    assert said(d.override("pause"), d.override("resume")) == [
        ("applied", "paused at 100%"),
        ("applied", "resumed (by ops@contoso.com since 2026-11-26 22:00:00Z: test)"),
    ]
    d.tick(3600)
    d.override("finalize", APPROVER)
    assert said(d.override("pause")) == [
        ("ignored", "finalize requested by ana@contoso.com: the source is being turned off")
    ]


def test_halt_pauses_the_release_and_unhalt_resumes_only_what_it_paused():
    d = Driver(make_plan("flight", workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}]))
    d.replicate("w1")
    d.send("tests-passed", "w1")
    d.override("pause", OPERATOR, workload="w2")
    assert said(d.override("halt", APPROVER, workload=None)) == [
        ("applied", "halt: paused at 10%; halt: already paused (by ops@contoso.com since 2026-11-26 22:00:00Z: test)")
    ]
    release = d.release
    assert (release.halted_by, release.halted_reason, release.halted_at) == (APPROVER, "test", "2026-11-26T22:00:00Z")
    assert (d.wl("w1").paused_by, d.wl("w1").paused_reason) == (APPROVER, "halted: test")
    assert said(d.override("unhalt", APPROVER, workload=None)) == [
        (
            "applied",
            "unhalt: resumed (by ana@contoso.com since 2026-11-26 22:00:00Z: halted: test); "
            "unhalt: not paused by a halt",
        )
    ]
    release = d.release
    assert (release.halted_by, release.halted_reason, release.halted_at) == (None, None, None)
    assert (d.wl("w1").paused, d.wl("w2").paused) == (False, True)
