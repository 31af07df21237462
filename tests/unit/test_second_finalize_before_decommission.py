"""A finalize clicked twice before the decommission it sent ran (contract v3: the endpoint answers an override
outside the session, so a second click can be decided before the first decommission message): nothing failed,
and neither the override's reason nor the finalize gate may say so."""

from __future__ import annotations

from shared.domain.gates import waiting_for
from tests.unit.test_machine import APPROVER, Driver, make_plan


def promoted() -> Driver:
    d = Driver(make_plan("single-step"))
    d.replicate()
    d.send("tests-passed")
    return d


def test_a_second_finalize_before_the_first_decommission_ran_does_not_claim_a_failure():
    d = promoted()
    assert d.override("finalize", APPROVER).outcome == "applied"
    [finalize] = [g for g in waiting_for(d.release, d.wl(), d.w.clock.now()) if g.gate == "finalize"]
    assert finalize.text and "failed" not in finalize.text and "None" not in finalize.text, finalize.text
    again = d.override("finalize", APPROVER)
    assert again.outcome == "applied"
    assert "None" not in again.reason and "failed" not in again.reason, again.reason
    assert "has not run yet" in again.reason
    d.tick(0)  # both decommissions arrive: the source goes off once, the workload is finalized
    assert d.wl().state == "finalized"


def test_a_finalize_after_a_failed_decommission_still_names_the_failure():
    d = promoted()
    d.w.service.decommissioner = None  # no provider: the decommission fails and is recorded
    request, decommission = d.finalize()
    assert request.outcome == "applied" and d.wl().decommission_error, decommission.reason
    again = d.override("finalize", APPROVER)
    assert f"decommission failed: {d.wl().decommission_error}" in again.reason
