"""Deadlines at their edges: a timer that arrives early, which deadline may roll back, and how long a wait
reads (what an on_deadline pause records is in test_time.py), pinned here without
waiting on a clock."""

from __future__ import annotations

import json
from datetime import timedelta

from shared.domain.machine import span as _span
from tests.fakes import T0
from tests.unit.test_machine import Driver, make_plan


def deadline_timers(d: Driver) -> list:
    return [(e, due) for e, due in d.w.scheduler.scheduled if e["type"] == "deadline"]


def test_a_deadline_timer_that_arrives_early_is_rescheduled_for_the_deadline_itself():
    d = Driver(make_plan("single-step", deadlines={"replicating": "3d"}))
    [(timer, due)] = deadline_timers(d)
    assert due == T0 + timedelta(days=3)
    d.w.scheduler.scheduled = []
    d.w.clock.advance(86400)  # a transport that cannot hold a timer that long delivers it a day in
    early = d.w.service.handle(json.dumps(timer))
    assert early.outcome == "ignored" and "rescheduled for 2026-11-29T22:00:00Z" in early.reason
    [(again, again_due)] = deadline_timers(d)
    assert again_due == due and again["data"] == timer["data"] == {
        "release": "r1",
        "workload": "w1",
        "period": timer["data"]["period"],
    }
    assert again["id"] != timer["id"]
    d.w.scheduler.scheduled = []
    d.w.clock.advance(3600)
    d.w.service.handle(json.dumps({**timer, "id": "another-early-copy"}))  # an hour later: a timer of its own
    [(third, _)] = deadline_timers(d)
    assert third["id"] not in (timer["id"], again["id"])
    d.w.clock.current = due
    fired = d.w.service.handle(json.dumps(again))
    assert fired.outcome == "applied" and "waited 3d for replicating" in fired.reason


def test_only_a_missed_verdict_rolls_back_and_only_a_rollback_plan_says_so():
    # on_deadline notify, the verdict deadline of a flight: recorded, nobody moved
    d = Driver(make_plan("flight", deadlines={"verdict": "30m"}, on_deadline="notify"))
    d.replicate()
    d.send("tests-passed")
    [fired] = [r for r in d.tick(31 * 60) if r.entries and r.entries[-1].type == "deadline"]
    assert fired.outcome == "applied" and (d.wl().state, d.routed()) == ("flighting", 10)
    assert "missing verdict" not in fired.reason
    # on_deadline rollback, but the deadline is for tests: nothing rolls back, and the reason says why
    d = Driver(make_plan("flight", deadlines={"testing": "1h"}, on_deadline="rollback"))
    d.replicate()
    [fired] = d.tick(3600)
    assert fired.outcome == "applied" and d.wl().state == "testing"
    assert "rollback acts on a missing verdict only" in fired.reason


def test_a_wait_reads_in_days_hours_minutes_and_seconds():
    assert [_span(s) for s in (0, 59, 60, 61, 3600, 3661, 86400, 90061, 120.9)] == [
        "0s",
        "59s",
        "1m",
        "1m1s",
        "1h",
        "1h1m1s",
        "1d",
        "1d1h1m1s",
        "2m",
    ]
