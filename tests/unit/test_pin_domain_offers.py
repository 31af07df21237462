"""The release-wide offers' effects (shared/domain/offers.py): halt counts the workloads it would pause, in
words ("1 workload", "2 workloads"), and unhalt says what it lifts."""

from __future__ import annotations

from shared.domain.actors import Principal
from shared.domain.offers import offers
from tests.unit.test_machine import APPROVER, OPERATOR, Driver, make_plan


def _release_offers(d: Driver, actor: str) -> list[tuple[str, str | None, str]]:
    return [(o.action, o.workload, o.effect) for o in offers(d.release, Principal(actor), d.w.clock.now(), None)]


def test_halt_of_one_workload_says_workload():
    d = Driver(make_plan("single-step"))
    assert _release_offers(d, OPERATOR) == [
        ("halt", None, "halts release r1: pauses 1 workload where they stand until an approver unhalts it")
    ]


def test_halt_of_two_workloads_says_workloads_and_unhalt_what_it_lifts():
    d = Driver(make_plan("single-step", workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}]))
    assert _release_offers(d, OPERATOR) == [
        ("halt", None, "halts release r1: pauses 2 workloads where they stand until an approver unhalts it")
    ]
    d.override("halt", workload=None)
    assert _release_offers(d, APPROVER) == [
        ("unhalt", None, "lifts the halt of release r1: resumes the workloads the halt paused")
    ]


def _workload_offers(d: Driver, actor: str) -> dict[str, str]:
    return {o.action: o.effect for o in offers(d.release, Principal(actor), d.w.clock.now(), "w1")}


def test_a_flight_s_offers_in_full_before_and_after_a_pause():
    d = Driver(make_plan("flight"))
    d.replicate()
    d.send("tests-passed")
    d.send("flight-healthy", flight=1)
    d.tick(31)
    assert _workload_offers(d, APPROVER) == {
        "pause": "pauses w1 at 50%: nothing advances until resume",
        "advance": "moves w1 from 50% to 100%",
        "rollback": "moves w1 from 50% to 0%; takes w1 from flighting to rolled-back",
        "abort": "moves w1 from 50% to 0%; takes w1 from flighting to aborted",
    }
    d.override("pause")
    assert _workload_offers(d, OPERATOR) == {
        "resume": "resumes w1",
        "rollback": "moves w1 from 50% to 0%; takes w1 from flighting to rolled-back; resumes w1",
        "abort": "moves w1 from 50% to 0%; takes w1 from flighting to aborted; resumes w1",
    }


def test_an_approval_that_promotes_and_a_finalize_that_turns_the_source_off():
    d = Driver(make_plan("single-step", approval="manual", decommission={"approval": "manual"}))
    d.replicate()
    d.send("tests-passed")
    assert _workload_offers(d, APPROVER) == {
        "pause": "pauses w1 at 0%: nothing advances until resume",
        "approve": "moves w1 from 0% to 100%; takes w1 from ready to promoted; approves w1",
        "abort": "takes w1 from ready to aborted",
    }
    d.override("approve", APPROVER)
    found = offers(d.release, Principal(APPROVER), d.w.clock.now(), "w1")
    assert [(o.action, o.verb, o.effect, o.recorded) for o in found] == [
        (
            "rollback",
            "Roll back",
            "moves w1 from 100% to 0%; takes w1 from promoted to rolled-back",
            "rolled back to 0% by hand; WARNING: the link to the source was severed, changes made since promotion "
            "are not on the source -> rolled-back (0%)",
        ),
        (
            "finalize",
            "Finalize",
            "turns w1's source system off",
            "finalize requested by ana@contoso.com: the source is turned off next; rollback is refused from now on",
        ),
    ]


def test_an_approval_of_a_paused_workload_neither_pauses_nor_resumes_it():
    d = Driver(make_plan("single-step", approval="manual"))
    d.replicate()
    d.send("tests-passed")
    d.override("pause")
    assert _workload_offers(d, APPROVER) == {
        "resume": "resumes w1",
        "approve": "approves w1",
        "abort": "takes w1 from ready to aborted; resumes w1",
    }


def test_finalize_again_before_the_decommission_ran_changes_nothing_it_can_name():
    d = Driver(make_plan("single-step", decommission={"approval": "manual"}))
    d.replicate()
    d.send("tests-passed")
    d.override("finalize", APPROVER)
    assert _workload_offers(d, APPROVER) == {"finalize": "finalizes w1"}
