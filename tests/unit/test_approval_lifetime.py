"""An approval is given for what passes: a failed test run withdraws it, whenever it was given."""

from __future__ import annotations

import pytest

from tests.unit.test_machine import APPROVER, Driver, make_plan


@pytest.mark.parametrize("approved_while", ["replicating", "testing"])
def test_an_approval_given_early_does_not_survive_a_failed_test_run(approved_while):
    d = Driver(make_plan("single-step", approval="manual"))
    if approved_while == "testing":
        d.replicate()
    assert d.override("approve", actor=APPROVER).outcome == "applied" and d.wl().state == approved_while
    if approved_while == "replicating":
        d.replicate()
    failed = d.send("tests-failed")
    assert "approval withdrawn" in failed.reason and not d.wl().approved
    d.send("tests-passed")
    assert (d.wl().state, d.routed()) == ("ready", 0)  # the next pass waits for a fresh approval
    assert d.release.state == "awaiting-approval"
    d.override("approve", actor=APPROVER)
    assert (d.wl().state, d.routed()) == ("promoted", 100)


def test_an_approval_given_early_still_counts_when_the_tests_pass():
    d = Driver(make_plan("single-step", approval="manual"))
    d.override("approve", actor=APPROVER)
    d.replicate()
    d.send("tests-passed")
    assert (d.wl().state, d.routed()) == ("promoted", 100)
