"""Transient failures never dead-letter a decision (issue 26, contract §18): a routing change Azure refuses for
a while is tried again by a message promote sends itself, for as long as the plan's retry.max allows, with
every attempt in history; a refusal that waiting will not change stops at once with the reason and attention."""

from __future__ import annotations

from datetime import timedelta

from shared.domain import messages as m
from shared.domain.model import Outcome
from tests.fakes import T0
from tests.unit.test_machine import OPERATOR, Driver, make_plan


def flighting(**plan) -> Driver:
    d = Driver(make_plan("flight", **plan))
    d.replicate()
    d.send("tests-passed")
    assert (d.wl().state, d.routed()) == ("flighting", 10)
    return d


def test_a_15_minute_routing_outage_during_an_alert_rollback_ends_with_the_rollback_done():
    d = flighting()
    outage_ends = T0 + timedelta(minutes=15)
    d.w.network.answer = lambda: 503 if d.w.clock.now() < outage_ends else None
    first = d.send("alert", severity="Sev1")
    assert first.outcome == "ignored" and "not carried out yet" in first.reason and "attempt 1" in first.reason
    assert (d.wl().state, d.routed()) == ("flighting", 10)  # nothing moved, nothing recorded as moved
    assert d.w.dead.letters == []
    results = []
    while d.wl().state != "rolled-back":
        assert d.w.clock.now() < T0 + timedelta(hours=1), "the rollback never happened"
        results += d.tick(30)
    assert (d.wl().state, d.routed()) == ("rolled-back", 0) and d.w.dead.letters == []
    history = [e for e in d.w.store.list_history("r1", "w1") if e.type == "alert"]
    attempts = [e for e in history if "not carried out yet" in e.reason]
    assert len(attempts) >= 6 and [f"attempt {i}" in e.reason for i, e in enumerate(attempts, 1)] == [True] * len(
        attempts
    )
    assert history[-1].outcome == Outcome.APPLIED and "rolled back to 0%" in history[-1].reason
    assert all(e.event_id == first.event_id for e in history)  # the one alert, tried again, recorded once applied


def test_a_refusal_that_waiting_will_not_change_stops_at_once_with_attention():
    d = flighting()
    d.w.network.answer = lambda: 400
    result = d.override("rollback")
    assert result.outcome == "rejected" and "not carried out" in result.reason and "Azure refused it" in result.reason
    assert (d.wl().state, d.routed()) == ("flighting", 10)
    assert [e for e, _ in d.w.scheduler.scheduled if e["type"] == m.RETRY_TYPE] == []
    assert "not carried out" in (d.wl().stuck or "")
    from shared.application.views import status_json

    [attention] = status_json(d.release, d.w.clock.now())["attention"]
    assert "not carried out" in attention["why"]
    d.w.network.answer = lambda: None
    d.override("rollback", id="again")  # decided anew and carried out: nothing stuck any more
    assert (d.wl().state, d.routed(), d.wl().stuck) == ("rolled-back", 0, None)


def test_retries_stop_at_the_plans_retry_max_and_say_so():
    d = flighting(retry={"max": "5m"})
    d.w.network.answer = lambda: 503
    d.override("rollback", OPERATOR)
    for _ in range(40):
        d.tick(30)
    entries = [e for e in d.w.store.list_history("r1", "w1") if e.type == "override"]
    assert "past the plan's retry.max" in entries[-1].reason and entries[-1].outcome == "rejected"
    assert [e for e, _ in d.w.scheduler.scheduled if e["type"] == m.RETRY_TYPE] == []
    assert (d.wl().state, d.routed()) == ("flighting", 10) and d.wl().stuck


def test_a_403_is_retried_while_a_role_assignment_may_still_propagate():
    d = flighting(retry={"max": "6h"})
    d.w.network.answer = lambda: 403
    d.override("rollback")
    d.tick(60 * 29)
    assert [e for e, _ in d.w.scheduler.scheduled if e["type"] == m.RETRY_TYPE]  # still retried at 29 minutes
    for _ in range(20):
        d.tick(300)
    assert [e for e, _ in d.w.scheduler.scheduled if e["type"] == m.RETRY_TYPE] == []  # then a missing role
    assert "Azure refused it" in d.w.store.list_history("r1", "w1")[-1].reason


def test_a_workload_that_comes_to_need_a_person_is_logged_once_for_the_attention_alert(caplog):
    from shared.application.config import ATTENTION_LOG_PREFIX

    d = flighting()
    d.w.network.answer = lambda: 400
    caplog.set_level("WARNING", logger="promote")
    d.override("rollback")
    d.override("rollback", id="twice")  # still stuck: no second line
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith(ATTENTION_LOG_PREFIX)]
    assert len(lines) == 1 and lines[0].startswith(f"{ATTENTION_LOG_PREFIX}r1/w1: ") and "not carried out" in lines[0]
