"""Boundaries of the machine: bake timers of a 1 s flight, the clock-skew
allowance of a verdict to the second, a 0 s flight scheduling no timer; overrides refused after finalize, stale
timers of an earlier attempt, alerts recorded while paused, advance at the last flight, dependency rechecks."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from shared.application.config import MAX_CONFLICTS
from shared.domain.errors import ConflictError
from shared.domain.machine import CLOCK_SKEW, DEPENDENCY_RECHECKS
from shared.domain.plan import validate_plan
from tests.fakes import T0, event, world
from tests.unit.test_machine import APPROVER, Driver, make_plan


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


# -- more boundaries a mutation run left open ---------------------------------------------------------
SYNC = {"max_lag": "5s", "max_age": "2m"}


@pytest.mark.parametrize("action", ["rollback", "retry", "abort"])
def test_an_override_refused_after_finalize_names_the_action_it_refused(action):
    d = Driver(make_plan("single-step"))
    d.replicate()
    d.send("tests-passed")
    d.finalize(APPROVER)
    r = d.override(action)
    assert r.outcome == "rejected" and re.search(rf"\b{action}\b", r.reason), r.reason
    assert (d.wl().state, d.routed()) == ("finalized", 100)


def test_a_bake_timer_of_an_earlier_attempt_never_grows_the_flight_even_if_it_began_the_same_millisecond():
    d = Driver(flight_plan("30s"))
    d.replicate()
    d.send("tests-passed")
    d.send("alert")  # attempt 0 rolled back; its bake timer is still scheduled
    assert d.wl().state == "rolled-back"
    d.override("retry")
    d.send("tests-passed")  # attempt 1's flight 1 begins at the same instant as attempt 0's did
    assert (d.wl().state, d.wl().attempt, d.wl().flight) == ("flighting", 1, 1)
    d.send("flight-healthy", flight=1)
    d.w.clock.advance(30)
    timers = {e["data"]["attempt"]: e for e in d.w.scheduler.due(d.w.clock.now())}
    assert sorted(timers) == [0, 1] and timers[0]["data"]["started_ms"] == timers[1]["data"]["started_ms"]
    stale = d.w.service.handle(json.dumps(timers[0]))
    assert stale.outcome == "ignored" and "attempt 0" in stale.reason
    assert (d.wl().flight, d.routed()) == (1, 10)
    current = d.w.service.handle(json.dumps(timers[1]))
    assert current.outcome == "applied" and (d.wl().flight, d.routed()) == (2, 100)


def test_an_alert_recorded_while_paused_voids_healthy_verdicts_measured_before_it():
    d = Driver(flight_plan("30s") | {"on_alert": "pause"})
    d.replicate()
    d.send("tests-passed")
    began = d.wl().flight_started_at
    d.override("pause")
    d.w.clock.advance(60)
    alert = d.send("alert")
    assert alert.outcome == "applied" and d.wl().trouble_at == d.w.clock.now()
    d.override("resume")
    old = d.send("flight-healthy", flight=1, time=began + timedelta(seconds=30))
    assert old.outcome == "ignored" and "2026-11-26 22:01:00Z" in old.reason  # names the alert's time
    assert (d.wl().flight, d.routed()) == (1, 10)
    fresh = d.send("flight-healthy", flight=1, time=d.w.clock.now())
    assert fresh.outcome == "applied" and (d.wl().flight, d.routed()) == (2, 100)


def test_advance_at_the_last_flight_is_not_held_by_the_data_sync_gate():
    plan = make_plan("flight", flights=[{"percent": 50, "bake": "0s"}, {"percent": 100, "bake": "0s"}])
    plan["workloads"] = [{"name": "w1", "assets": ["a", "b"], "data_sync": SYNC}]
    d = Driver(plan)
    d.replicate()
    d.send("tests-passed")
    d.send("replication-lag", lag_seconds=1)
    d.send("flight-healthy", flight=1)
    assert (d.wl().flight, d.routed()) == (2, 100)
    d.send("replication-lag", lag_seconds=60)  # out of sync now: but at 100% advancing moves nobody
    r = d.override("advance", APPROVER)
    assert (r.outcome, d.wl().state, d.routed()) == ("applied", "promoted", 100)


def after_plan(name: str, after: list[str], workloads: int = 1) -> dict:
    return {
        **make_plan("single-step"),
        "release": name,
        "after": after,
        "workloads": [{"name": f"w{i + 1}", "assets": ["a"]} for i in range(workloads)],
    }


def test_a_dependency_notice_read_early_schedules_one_look_again_per_notice_with_a_deterministic_distinct_id():
    w = world()
    w.service.apply(validate_plan(after_plan("a", [])))
    w.service.apply(validate_plan(after_plan("b", ["a"], workloads=2)))
    notice = event("dependency-promoted", "b", None, "told-early", dependency="a")
    r = w.service.handle(notice)
    assert r.outcome == "ignored" and {e.workload for e in r.entries} == {"w1", "w2"}
    [(first, due)] = w.scheduler.scheduled  # one look again for the release, not one per workload
    assert (first["type"], first["data"]["recheck"], due) == ("dependency-promoted", 1, T0 + DEPENDENCY_RECHECKS[0])
    when = due.isoformat().replace("+00:00", "Z")
    assert all(f"looking again at {when}" in e.reason for e in r.entries)  # the history says when
    w.scheduler.scheduled = []
    w.service.handle(notice)  # redelivered: the same look again, with the same id (the transport drops a twin)
    [(twin, _)] = w.scheduler.scheduled
    assert twin["id"] == first["id"]
    w.scheduler.scheduled = []
    w.service.handle(event("dependency-promoted", "b", None, "told-early-too", dependency="a"))
    [(other, _)] = w.scheduler.scheduled  # another notice: another id
    assert other["id"] != first["id"]
    w.scheduler.scheduled = []
    w.service.handle(json.dumps(first))  # the look again, still early: the next one has an id of its own
    [(second, due2)] = w.scheduler.scheduled
    assert second["data"]["recheck"] == 2 and due2 == T0 + DEPENDENCY_RECHECKS[1]
    assert len({first["id"], second["id"], other["id"]}) == 3


def test_an_invalid_message_that_cannot_be_recorded_for_write_conflicts_names_its_release():
    w = world()
    w.service.apply(validate_plan(make_plan("single-step")))
    w.store.fail_next_commits = MAX_CONFLICTS
    with pytest.raises(ConflictError, match=r"\brelease r1\b"):
        w.service.handle(event("asset-replicated", "r1", "w1", "no-asset"))  # invalid: it names no asset
    assert w.store.history["r1"] == [] and w.dead.letters == []


def test_a_release_held_by_data_sync_says_so_whatever_the_message_itself_says():
    """The note was skipped for an entry whose own text contained "release held by" (an alert's description)."""
    from tests.unit.test_finish import lag, ready, synced_plan

    notes = []
    for description in ("disk full", "release held by nobody"):
        d = Driver(synced_plan("staged", workloads=2))
        for name in ("w1", "w2"):
            ready(d, name)
            lag(d, 1, name)
        lag(d, 40, "w2")
        d.override("approve", APPROVER, workload=None)  # approved, held while w2 lags
        r = d.send("alert", "w1", description=description)
        notes.append(r.reason.count("release held by w2 data-sync: latest lag 40s"))
    assert notes == [1, 1]


@pytest.mark.parametrize("finalize", [False, True])
def test_a_replication_after_promotion_or_finalize_warns_that_source_changes_are_lost(finalize):
    d = Driver(make_plan("single-step"))
    d.replicate()
    d.send("tests-passed")
    if finalize:
        d.finalize(APPROVER)
    asset = sorted(d.wl().assets)[0]
    r = d.send("asset-replicated", asset=asset)
    assert r.outcome == "ignored" and "changes made on the source since then are lost" in r.reason
    assert (d.wl().state, d.routed()) == ("finalized" if finalize else "promoted", 100)
