"""Finishing a migration through the service (shared/domain/machine/rules/finish.py): the outcome and exact
history reason of each step of hypercare, finalize and decommission, and the timers it schedules. The reasons
are what an operator reads in history and on the board."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from shared.domain.machine.effects import Decommission
from shared.domain.plan.finishing import Decommission as ReleaseDecommission
from tests.unit.test_finish import history, lag, synced_plan
from tests.unit.test_machine import APPROVER, OPERATOR, Driver, make_plan

START = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # the fakes' clock at the start
START_MS = 1795730400000


def promoted(plan: dict) -> Driver:
    d = Driver(plan)
    d.replicate()
    d.send("tests-passed")
    return d


def said(results) -> list[tuple[str, str]]:
    return [(r.outcome, r.reason) for r in results]


def rows(d: Driver) -> list[tuple[str, str, str]]:
    return [(h.type, h.outcome, h.reason) for h in history(d)]


PROMOTION = [
    ("asset-replicated", "applied", "asset a replicated (1/2)"),
    ("asset-replicated", "applied", "asset b replicated (2/2) -> testing"),
    ("tests-passed", "applied", "tests passed -> promoted (100%); network: fake r1/w1: share 0 -> 100"),
]


def test_manual_finalize_after_hypercare():
    d = promoted(make_plan("single-step", hypercare="1h", decommission={"approval": "manual"}))
    kept = "in hypercare until 2026-11-26T23:00:00Z: the source is kept until then"
    assert said([d.override("finalize", APPROVER)]) == [("rejected", kept)]
    d.tick(3599)
    assert said([d.override("finalize", APPROVER)]) == [("rejected", kept)]
    assert said(d.tick(1)) == [("applied", "hypercare over: an approver may finalize (override finalize)")]
    request, done = d.finalize()
    assert said([request, done]) == [
        (
            "applied",
            "finalize requested by ana@contoso.com: the source is turned off next; rollback is refused from now on",
        ),
        (
            "applied",
            "turning the source off (finalize requested by ana@contoso.com) -> finalized; source: source of w1 "
            "powered off",
        ),
    ]
    assert said([d.override("finalize", APPROVER), d.override("rollback", APPROVER)]) == [
        ("ignored", "already finalized by ana@contoso.com at 2026-11-26T23:00:00Z: the source is decommissioned"),
        (
            "rejected",
            "rollback refused: finalized by ana@contoso.com at 2026-11-26T23:00:00Z: the source is decommissioned; "
            "there is no source to return to",
        ),
    ]
    assert d.w.decommissioner.requests == [
        ("r1", Decommission("w1", ReleaseDecommission(approval="manual"), ("a", "b"), APPROVER, 0))
    ]
    w = d.wl()
    assert (w.state, w.finalized_by, w.finalized_at, w.finalize_requested_by) == (
        "finalized",
        APPROVER,
        datetime(2026, 11, 26, 23, 0, tzinfo=UTC),
        APPROVER,
    )
    assert [h.type for h in history(d)][3:] == [
        "override",
        "override",
        "hypercare-elapsed",
        "override",
        "decommission",
        "override",
        "override",
    ]


def test_the_hypercare_timer_is_scheduled_at_promotion_for_the_promotion():
    d = promoted(make_plan("single-step", hypercare="1h", decommission={"approval": "manual"}))
    [(event, due)] = d.w.scheduler.scheduled
    assert due == datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    assert (event["id"], event["source"], event["type"], event["time"]) == (
        f"hypercare-elapsed:r1:w1:0:{START_MS}:{START_MS}",
        "promote/timer",
        "hypercare-elapsed",
        "2026-11-26T22:00:00Z",
    )
    assert event["data"] == {"release": "r1", "workload": "w1", "attempt": 0, "promoted_ms": START_MS}
    assert d.wl().promoted_at == START


def test_no_hypercare_and_manual_finalize_schedule_no_timer():
    d = promoted(make_plan("single-step", decommission={"approval": "manual"}))
    assert d.w.scheduler.scheduled == []
    d = promoted(make_plan("single-step", decommission={"approval": "auto"}))
    [(event, due)] = d.w.scheduler.scheduled
    assert (event["type"], due) == ("hypercare-elapsed", START)


def test_a_long_hypercare_hops_a_week_at_a_time():
    d = promoted(make_plan("single-step", hypercare="10d", decommission={"approval": "auto"}))
    [(_, first)] = d.w.scheduler.scheduled
    assert first == datetime(2026, 12, 3, 22, 0, tzinfo=UTC)
    assert said(d.tick(7 * 86400)) == [
        ("ignored", "hypercare timer arrived early; hypercare until 2026-12-06T22:00:00Z")
    ]
    event, due = d.w.scheduler.scheduled[-1]
    assert due == datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
    assert event["id"] == f"hypercare-elapsed:r1:w1:0:{START_MS}:{START_MS + 7 * 86400 * 1000}"
    assert said(d.tick(3 * 86400 - 1)) == []
    assert said(d.tick(1)) == [("applied", "hypercare over: finalizing (decommission.approval: auto)")]
    assert said(d.tick(0)) == [
        (
            "applied",
            "turning the source off (finalize requested by promote) -> finalized; source: source of w1 powered off",
        )
    ]
    stale = [
        d.send("hypercare-elapsed", "w1", attempt=0, promoted_ms=START_MS + 1),
        d.send("decommission", "w1", attempt=0, promoted_ms=START_MS),
        d.send("decommission-retry", "w1", attempt=1, promoted_ms=START_MS),
    ]
    assert said(stale) == [
        ("ignored", "hypercare timer is stale (not for the current promotion)"),
        ("ignored", "decommission is stale (workload is finalized)"),
        ("ignored", "decommission is stale (workload is finalized)"),
    ]


def test_hypercare_timers_of_another_promotion_are_stale():
    d = promoted(make_plan("single-step", hypercare="1h", decommission={"approval": "auto"}))
    assert said(
        [
            d.send("hypercare-elapsed", "w1", attempt=1, promoted_ms=START_MS),
            d.send("hypercare-elapsed", "w1", attempt=0, promoted_ms=START_MS - 1),
            d.send("decommission", "w1", attempt=0, promoted_ms=START_MS),  # nothing was requested
        ]
    ) == [
        ("ignored", "hypercare timer is stale (not for the current promotion)"),
        ("ignored", "hypercare timer is stale (not for the current promotion)"),
        ("ignored", "decommission is stale (workload is promoted)"),
    ]
    assert d.wl().state == "promoted"


def test_a_paused_workload_finalizes_by_itself_at_resume():
    d = promoted(make_plan("single-step", hypercare="1h", decommission={"approval": "auto"}))
    d.override("pause", OPERATOR)
    assert said([d.override("finalize", APPROVER)]) == [("rejected", "workload is paused: resume first")]
    assert said(d.tick(3600)) == [("applied", "hypercare over; paused: finalizes by itself at resume")]
    assert d.wl().state == "promoted"
    d.override("resume", OPERATOR)
    assert said(d.tick(0)) == [
        (
            "applied",
            "turning the source off (finalize requested by promote) -> finalized; source: source of w1 powered off",
        )
    ]
    assert d.wl().finalized_by == "promote"


def test_finalize_needs_a_promoted_workload():
    d = Driver(make_plan("single-step"))
    assert said([d.override("finalize", APPROVER)]) == [
        ("rejected", "finalize applies to a promoted workload; this one is replicating")
    ]


def test_finalize_again_before_the_decommission_ran():
    d = promoted(make_plan("single-step"))
    d.override("finalize", APPROVER)
    d.w.clock.advance(1)
    assert said([d.override("finalize", APPROVER)]) == [
        (
            "applied",
            "finalize again by ana@contoso.com (requested by ana@contoso.com, its decommission has not run yet): "
            "turning the source off now",
        )
    ]
    assert d.wl().finalize_requested_at == START  # the first request's moment is kept


def test_a_failed_decommission_is_recorded_retried_and_refuses_a_rollback():
    d = promoted(make_plan("single-step", decommission={"approval": "manual"}))
    d.w.decommissioner.down = True
    _, done = d.finalize()
    assert said([done]) == [
        (
            "applied",
            "turning the source off (finalize requested by ana@contoso.com); decommission failed (1 time(s)): "
            "ConnectionError: decommission provider unreachable; still promoted, retry at 2026-11-26T22:00:30Z",
        )
    ]
    w = d.wl()
    assert (w.state, w.finalized_by, w.finalized_at, w.decommission_failures, w.decommission_error) == (
        "promoted",
        None,
        None,
        1,
        "ConnectionError: decommission provider unreachable",
    )
    retry, due = d.w.scheduler.scheduled[-1]
    assert (retry["type"], retry["id"], due) == (
        "decommission-retry",
        f"decommission-retry:r1:w1:0:{START_MS}:{START_MS}",
        datetime(2026, 11, 26, 22, 0, 30, tzinfo=UTC),
    )
    assert retry["data"] == {"release": "r1", "workload": "w1", "attempt": 0, "promoted_ms": START_MS}
    d.w.clock.advance(1)
    assert said([d.override("finalize", APPROVER)]) == [
        (
            "applied",
            "finalize again by ana@contoso.com (requested by ana@contoso.com, decommission failed: ConnectionError: "
            "decommission provider unreachable): turning the source off now",
        )
    ]
    assert said(d.tick(0)) == [
        (
            "applied",
            "turning the source off (finalize requested by ana@contoso.com); decommission failed (2 time(s)): "
            "ConnectionError: decommission provider unreachable; still promoted, retry at 2026-11-26T22:01:01Z",
        )
    ]
    assert said([d.override("rollback", APPROVER)]) == [
        (
            "rejected",
            "rollback refused: finalize requested by ana@contoso.com at 2026-11-26T22:00:00Z; the source may "
            "already be partly off",
        )
    ]
    d.w.decommissioner.down = False
    assert said(d.tick(29)) == [("applied", "decommission retry #2 -> finalized; source: source of w1 powered off")]
    assert d.w.decommissioner.off == [("r1", "w1")]


def test_replication_lag_reports():
    d = Driver(synced_plan("single-step"))
    assert said([lag(d, 3, asset="zz"), lag(d, 3.5, asset="a"), lag(d, 9)]) == [
        ("rejected", "asset 'zz' is not part of workload w1"),
        ("applied", "replication lag 3.5s (asset a): data-sync gate open"),
        ("applied", "replication lag 9s: data-sync: latest lag 9s is above max_lag 5s"),
    ]
    assert (d.wl().lag_seconds, d.wl().lag_reports) == (9.0, 2)
    early = lag(d, 1, time=datetime(2026, 11, 26, 21, 59, 59, tzinfo=UTC))
    assert said([early]) == [
        (
            "ignored",
            "replication lag 1s measured at 2026-11-26T21:59:59Z, before the latest report (2026-11-26T22:00:00Z)",
        )
    ]
    d = Driver(make_plan("single-step"))
    assert said([d.send("replication-lag", "w1", lag_seconds=-0.0)]) == [
        ("applied", "replication lag -0s recorded (no data_sync gate for this workload)")
    ]
    assert math.copysign(1, d.wl().lag_seconds) == 1  # not -0.0
    d = promoted(make_plan("single-step", decommission={"approval": "auto"}))
    d.tick(0)
    d.tick(0)
    assert said([d.send("replication-lag", "w1", lag_seconds=-0.0)]) == [
        ("ignored", "replication lag -0s: workload is finalized")
    ]
