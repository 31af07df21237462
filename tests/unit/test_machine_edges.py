"""Boundaries of the machine that a mutation run showed unpinned: bake timers of a 1 s flight, the clock-skew
allowance of a verdict to the second, and a 0 s flight scheduling no timer."""
from __future__ import annotations

from datetime import timedelta

from shared.domain.machine import CLOCK_SKEW
from tests.fakes import T0
from tests.unit.test_machine import Driver, make_plan


def flight_plan(first_bake: str) -> dict:
    return make_plan("flight", flights=[{"percent": 10, "bake": first_bake}, {"percent": 100, "bake": "0s"}])


def test_a_one_second_bake_schedules_its_timer_and_a_zero_second_one_none():
    d = Driver(flight_plan("1s"))
    d.replicate()
    d.send("tests-passed")
    [(timer, due)] = d.w.scheduler.scheduled
    assert due == T0 + timedelta(seconds=1) and timer["data"]["flight"] == 1
    d.send("flight-healthy", flight=1)
    assert d.wl().flight == 1, "not before the bake is over"
    d.tick(1)  # the timer grows the flight
    assert (d.wl().state, d.routed()) == ("flighting", 100)

    d = Driver(flight_plan("0s"))
    d.replicate()
    d.send("tests-passed")
    assert d.w.scheduler.scheduled == []


def test_a_verdict_issued_exactly_at_the_skew_allowance_counts_and_one_a_microsecond_earlier_does_not():
    d = Driver(flight_plan("0s"))
    d.replicate()
    d.send("tests-passed")
    began = d.wl().flight_started_at
    early = d.send("flight-healthy", flight=1, time=began - CLOCK_SKEW - timedelta(microseconds=1))
    assert early.outcome == "ignored" and "before flight 1 began" in early.reason
    assert d.send("flight-healthy", flight=1, time=began - CLOCK_SKEW).outcome == "applied"
    assert (d.wl().state, d.routed()) == ("flighting", 100)
