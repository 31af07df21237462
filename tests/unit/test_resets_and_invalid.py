"""What a retry and a rollback reset, what an invalid message records, and a verdict that trouble voids:
behaviours a mutation run showed no test pinned."""

from __future__ import annotations

import json

import pytest

from tests.unit.test_machine import APPROVER, Driver, make_plan, to_first_flight


def test_a_retry_resets_every_fact_of_the_last_attempt():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    d.send("flight-healthy", flight=1)
    d.tick(30)  # flight 2
    d.override("rollback")
    d.override("retry")
    w = d.wl()
    assert (
        w.state,
        w.flight,
        w.healthy_flight,
        w.unhealthy,
        w.flight_started_at,
        w.tests_passed,
        w.approved,
        w.attempt,
        w.traffic_percent,
    ) == ("testing", 0, 0, False, None, False, False, 1, 0)


def test_trouble_recorded_while_paused_voids_the_healthy_verdict_the_flight_had():
    d = Driver(make_plan("flight", on_alert="pause"))
    to_first_flight(d)
    d.send("flight-healthy", flight=1)  # healthy, bake (30 s) not over yet
    d.override("pause")
    d.send("alert", severity="Sev2")  # recorded while paused
    d.override("resume")
    d.tick(60)  # the bake is over: without a fresh healthy verdict the flight must not grow
    assert (d.wl().flight, d.routed(), d.wl().healthy_flight) == (1, 10, 0)
    d.send("flight-healthy", flight=1)
    assert (d.wl().flight, d.routed()) == (2, 50)


def _raw(d: Driver, doc: dict):
    return d.w.service.handle(json.dumps(doc))


def test_an_invalid_message_without_a_type_is_recorded_as_type_invalid_on_its_workload():
    d = Driver(make_plan("single-step"))
    result = _raw(
        d, {"specversion": "1.0", "id": "no-type", "source": "s", "data": {"release": "r1", "workload": "w1"}}
    )
    [entry] = result.entries
    assert (result.outcome, entry.type, entry.workload, entry.event_id) == ("rejected", "invalid", "w1", "no-type")
    assert not d.release.seen and d.release.processed == 0, "an id never validated gets no de-duplication marker"


def test_an_invalid_message_naming_an_unknown_workload_is_recorded_on_the_release():
    d = Driver(make_plan("single-step"))
    result = _raw(
        d,
        {
            "specversion": "1.0",
            "id": "ghost",
            "source": "s",
            "type": "asset-replicated",
            "data": {"release": "r1", "workload": "ghost"},
        },
    )
    [entry] = result.entries
    assert (result.outcome, entry.workload, entry.type) == ("rejected", None, "asset-replicated")


def test_an_invalid_message_without_a_release_is_dead_lettered_under_its_id():
    d = Driver(make_plan("single-step"))
    body = {"specversion": "1.0", "id": "orphan", "source": "s", "type": "tests-passed", "data": {}}
    result = _raw(d, body)
    assert (result.outcome, result.event_id) == ("dead-lettered", "orphan")
    assert d.w.dead.letters[0][1].startswith("invalid message: ")


def test_a_release_wide_promotion_makes_the_entry_of_a_workload_whose_own_part_was_ignored_applied():
    d = Driver(make_plan("staged", workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}]))
    for name, asset in (("w1", "a"), ("w2", "b")):
        d.send("asset-replicated", name, asset=asset)
        d.send("tests-passed", name)
    d.override("approve", actor=APPROVER, workload="w1")
    result = d.override("approve", actor=APPROVER, workload=None)  # w1: already approved; w2: approved
    by_workload = {e.workload: e for e in result.entries}
    assert by_workload["w1"].outcome == "applied" and "already approved" in by_workload["w1"].reason
    assert "promoted with the release" in by_workload["w1"].reason
    assert (by_workload["w1"].to_state, by_workload["w1"].traffic_percent) == ("promoted", 100)


def test_a_rollback_of_a_paused_flight_clears_the_pause_so_a_retry_can_advance():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    d.override("pause")
    d.override("rollback")
    assert (d.wl().state, d.wl().paused, d.routed()) == ("rolled-back", False, 0)
    d.override("retry")
    d.send("tests-passed")
    assert (d.wl().state, d.routed()) == ("flighting", 10)


def test_a_new_flight_starts_healthy_of_past_trouble_so_a_pause_and_resume_do_not_roll_it_back():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    d.override("pause")
    d.override("resume")
    assert (d.wl().state, d.wl().unhealthy, d.routed()) == ("flighting", False, 10)


def test_tests_failing_after_a_pass_recorded_while_paused_undo_the_pass():
    d = Driver(make_plan("single-step"))
    d.replicate()
    d.override("pause")
    d.send("tests-passed")
    d.send("tests-failed")
    assert (d.wl().state, d.wl().tests_passed) == ("testing", False)
    d.override("resume")
    assert (d.wl().state, d.routed()) == ("testing", 0)


@pytest.mark.parametrize("on_drift, after_redelivery", [("reapply", (100, 100)), ("report", (0, 0))])
def test_a_release_wide_message_redelivered_puts_every_workload_back_only_with_on_drift_reapply(
    on_drift, after_redelivery
):
    d = Driver(
        make_plan(
            "staged",
            approval="auto",
            on_drift=on_drift,
            workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}],
        )
    )
    for name, asset in (("w1", "a"), ("w2", "b")):
        d.send("asset-replicated", name, asset=asset)
        d.send("tests-passed", name)
    assert (d.routed("w1"), d.routed("w2")) == (100, 100)
    pause = d.override("pause", workload=None, id="pause-all")
    assert pause.outcome == "ignored"  # promoted workloads cannot be paused: release-wide, nothing to do
    d.w.network.shares[("r1", "w1")] = d.w.network.shares[("r1", "w2")] = 0  # someone moved users back by hand
    assert d.override("pause", workload=None, id="pause-all").outcome == "duplicate"
    # with on_drift: report an operator's out-of-band move stands (docs/routing.md: when a redelivery re-asserts)
    assert (d.routed("w1"), d.routed("w2")) == after_redelivery


def test_advance_by_hand_says_from_which_share_to_which_flight():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    result = d.override("advance", actor=APPROVER)
    assert result.reason == (
        "advanced by hand from flight 1 (10%) to flight 2 -> flighting (flight 2, 50%); "
        "network: fake r1/w1: share 10 -> 50"
    )
    d.override("advance", actor=APPROVER)
    last = d.override("advance", actor=APPROVER)
    assert last.reason.startswith("advanced by hand from flight 3 (100%) to promoted")


def test_an_invalid_message_without_an_id_is_recorded_under_an_id_made_from_its_reason():
    d = Driver(make_plan("single-step"))
    result = _raw(d, {"specversion": "1.0", "source": "s", "type": "tests-passed", "data": {"release": "r1"}})
    [entry] = result.entries
    assert result.outcome == "rejected" and entry.event_id.startswith("invalid:") and len(entry.event_id) == 24
