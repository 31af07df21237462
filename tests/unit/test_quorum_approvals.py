"""Approval by quorum (v3 §19): `approval: {mode: manual, quorum: 2, separate_duties: true}` moves users only
once that many distinct approvers approved; an approver who operated on the workload in this attempt does
not count; status, the gate and history say "1 of 2 approvals (ana)"."""

from __future__ import annotations

import pytest

from shared.application.views import status_json
from shared.domain.errors import PlanError
from shared.domain.plan import validate_plan
from tests.unit.test_machine import Driver, make_plan

ANA, BOB, CAROL = "ana@contoso.com", "bob@contoso.com", "carol@contoso.com"


def quorum_plan(**approval) -> dict:
    return make_plan(
        "single-step",
        approvers=[ANA, BOB, CAROL],
        operators=[ANA, BOB, CAROL],
        approval={"mode": "manual", "quorum": 2, **approval},
    )


def ready(d: Driver) -> None:
    d.replicate()
    d.send("tests-passed")


def test_a_move_needs_approvals_from_that_many_distinct_approvers():
    d = Driver(quorum_plan())
    ready(d)
    first = d.override("approve", actor=ANA)
    assert first.outcome == "applied" and "1 of 2 approvals (ana@contoso.com)" in first.reason
    assert (d.wl().state, d.routed(), d.release.state) == ("ready", 0, "awaiting-approval")
    doc = status_json(d.release, d.w.clock.now())["workloads"][0]
    assert [a["by"] for a in doc["approvals"]] == [ANA] and doc["approvals_needed"] == 2
    [gate] = [g for g in doc["waiting_for"] if g["gate"] == "approval"]
    assert gate["needed"] == 2 and [a["by"] for a in gate["approvals"]] == [ANA]
    again = d.override("approve", actor=ANA.upper())  # the same person, any case: not a second approver
    assert again.outcome == "ignored" and d.routed() == 0
    second = d.override("approve", actor=BOB)
    assert second.outcome == "applied" and "2 of 2 approvals" in second.reason
    assert (d.wl().state, d.routed()) == ("promoted", 100)


def test_with_separate_duties_an_approver_who_operated_in_this_attempt_does_not_count():
    d = Driver(quorum_plan(separate_duties=True))
    ready(d)
    d.override("pause", actor=ANA)
    d.override("resume", actor=BOB)
    refused = d.override("approve", actor=ANA)
    assert refused.outcome == "rejected" and "separate_duties" in refused.reason
    d.override("approve", actor=CAROL)
    assert d.routed() == 0  # bob resumed it: his approval would not count either
    assert d.override("approve", actor=BOB).outcome == "rejected" and d.routed() == 0


def test_without_separate_duties_an_operator_may_approve():
    d = Driver(quorum_plan())
    ready(d)
    d.override("pause", actor=ANA)
    d.override("resume", actor=ANA)
    d.override("approve", actor=ANA)
    d.override("approve", actor=BOB)
    assert d.routed() == 100


def test_a_failed_test_run_withdraws_every_approval_counted():
    d = Driver(quorum_plan())
    ready(d)
    d.override("approve", actor=ANA)
    d.send("tests-failed")
    assert d.wl().approvals == [] and not d.wl().approved
    d.send("tests-passed")
    d.override("approve", actor=BOB)
    assert d.routed() == 0  # ana's approval was for the run that failed


def test_a_quorum_larger_than_the_approvers_is_named_at_apply():
    with pytest.raises(PlanError, match="approval.quorum"):
        validate_plan({**quorum_plan(), "approvers": [ANA]})
