"""A finalize racing a rollback or a pause never powers off the source users are sent back to (issue 29,
defect 1). On Azure the override endpoint handles overrides outside the release's session, so a rollback or a
pause can commit while an `azure-vm` power-off runs for minutes. The finalize request is committed before
anything is turned off; from then on a rollback is refused and a pause holds nothing."""

from __future__ import annotations

import pytest

from tests.unit.test_machine import APPROVER, OPERATOR, Driver, make_plan


def promoted_with_a_race(action: str) -> tuple[Driver, list]:
    """A promoted workload past its hypercare (a pause holds a finalize still to come then) whose power-off lets
    `action` (an operator's override) commit midway."""
    d = Driver(make_plan("single-step", hypercare="1m"))
    d.replicate()
    d.send("tests-passed")
    d.tick(60)
    raced: list = []
    power_off = d.w.decommissioner.decommission

    def slow_power_off(release, request):
        if not raced:  # the operator's override commits while the VM is being turned off
            raced.append(d.override(action, OPERATOR))
        return power_off(release, request)

    d.w.decommissioner.decommission = slow_power_off
    return d, raced


def source_off(d: Driver) -> bool:
    return ("r1", "w1") in d.w.decommissioner.off


@pytest.mark.parametrize("action", ["rollback", "pause"])
def test_a_finalize_racing_an_override_never_leaves_users_on_a_source_that_is_off(action):
    d, raced = promoted_with_a_race(action)
    d.finalize(APPROVER)
    assert source_off(d)
    assert raced and raced[0].outcome != "applied", (
        "the racing override was refused or ignored: no undo of the finalize"
    )
    assert (d.wl().state, d.routed()) == ("finalized", 100)
    later = d.override("rollback")
    assert later.outcome == "rejected" and d.routed() == 100  # nobody is ever sent to the dead source


def test_a_rollback_committed_before_the_finalize_request_turns_nothing_off():
    d = Driver(make_plan("single-step"))
    d.replicate()
    d.send("tests-passed")
    d.override("rollback")
    request, _ = d.finalize(APPROVER)
    assert request.outcome == "rejected" and not source_off(d) and d.routed() == 0


def test_once_finalize_is_requested_a_pause_holds_nothing_and_the_decommission_goes_on():
    """Issue 29, defect 2: a failed decommission whose retry arrived during a pause was never retried."""
    d = Driver(make_plan("single-step"))
    d.replicate()
    d.send("tests-passed")
    d.w.decommissioner.down = True
    d.finalize(APPROVER)
    assert (d.wl().state, d.wl().decommission_failures) == ("promoted", 1)
    pause = d.override("pause")
    assert pause.outcome == "ignored" and "being turned off" in pause.reason
    d.w.decommissioner.down = False
    d.tick(30)  # the retry
    assert d.wl().state == "finalized" and source_off(d)
