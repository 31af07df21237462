"""What an actor may do now (shared/domain/offers.py): exactly the overrides decide() would apply, by the same
authorisation and rules, each with the effect it would have, named for the board's confirmation."""

from __future__ import annotations

from shared.domain.actors import Principal
from shared.domain.offers import offers
from tests.unit.test_machine import APPROVER, OPERATOR, Driver, make_plan

ANA, BOB = "ana@contoso.com", "bob@contoso.com"


def actions(d: Driver, actor: str, workload: str | None = "w1") -> dict[str, str]:
    return {o.action: o.effect for o in offers(d.release, Principal(actor), d.w.clock.now(), workload)}


def flight_at_50() -> Driver:
    d = Driver(make_plan("flight"))
    d.replicate()
    d.send("tests-passed")
    d.send("flight-healthy", flight=1)
    d.tick(31)
    assert (d.wl().state, d.wl().traffic_percent) == ("flighting", 50)
    return d


def test_an_operator_in_a_flight_may_pause_and_roll_back_and_each_names_its_effect():
    d = flight_at_50()
    offered = actions(d, OPERATOR)
    assert set(offered) == {"pause", "rollback", "abort"}  # advance is an approver's; retry needs a rollback
    assert offered["rollback"] == "moves w1 from 50% to 0%; takes w1 from flighting to rolled-back"
    assert offered["pause"].startswith("pauses w1 at 50%")
    assert "advance" in actions(d, APPROVER)


def test_a_stranger_is_offered_nothing_and_the_offer_follows_the_state():
    d = flight_at_50()
    assert actions(d, "mallory@evil.example") == {}
    assert actions(d, "mallory@evil.example", None) == {}
    d.override("rollback")
    offered = actions(d, OPERATOR)
    assert set(offered) == {"retry", "abort", "pause"}  # nothing left to roll back
    assert "takes w1 from rolled-back to testing" in offered["retry"]


def test_quorum_approval_offers_the_count_and_not_twice_to_the_same_approver():
    d = Driver(make_plan("single-step", approvers=[ANA, BOB], approval={"mode": "manual", "quorum": 2}))
    d.replicate()
    d.send("tests-passed")
    assert actions(d, ANA)["approve"] == "counts an approval of w1: 1 of 2"
    d.override("approve", actor=ANA)
    assert "approve" not in actions(d, ANA)
    assert actions(d, BOB)["approve"].startswith("moves w1 from 0% to 100%")


def test_halt_is_offered_to_operators_and_unhalt_to_approvers_only_while_halted():
    d = flight_at_50()
    assert set(actions(d, OPERATOR, None)) == {"halt"}
    assert "pauses 1 workload" in actions(d, OPERATOR, None)["halt"]
    d.override("halt", workload=None)
    assert actions(d, OPERATOR, None) == {}  # an operator may not lift it
    assert set(actions(d, APPROVER, None)) == {"unhalt"}
    while_halted = actions(d, OPERATOR)
    assert set(while_halted) == {"resume", "rollback", "abort"}  # the rules of a paused workload
    assert while_halted["rollback"].endswith("; resumes w1")
