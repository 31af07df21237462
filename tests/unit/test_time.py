"""Time and order through the service with fakes: waiting_for gates, deadlines, change windows, `after`.

The fake clock starts at T0 = Thursday 2026-11-26 22:00Z (23:00 in Amsterdam, UTC+1).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.application.views import status_json, status_text
from shared.domain.errors import PlanError
from shared.domain.gates import waiting_for, waiting_period
from shared.domain.machine import DEPENDENCY_NOTICE_DELAY, DEPENDENCY_RECHECKS
from shared.domain.model import new_release
from shared.domain.plan import validate_plan
from tests.fakes import T0, event, world
from tests.unit.test_machine import APPROVER, OPERATOR, Driver, make_plan

FRIDAY_EVENING = {"timezone": "Europe/Amsterdam", "allow": [{"days": ["fri"], "from": "20:00", "to": "23:30"}]}
OPENS = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)  # Friday 20:00 in Amsterdam
UNTIL_OPEN = (OPENS - T0).total_seconds()


def gates(d: Driver, name: str = "w1") -> list[str]:
    return [g.gate for g in waiting_for(d.release, d.wl(name), d.w.clock.now())]


def status(d: Driver, name: str = "w1") -> dict:
    doc = status_json(d.release, d.w.clock.now())
    return next(w for w in doc["workloads"] if w["name"] == name)


def history(d: Driver, type_: str | None = None) -> list:
    return [e for e in d.w.store.list_history("r1") if type_ is None or e.type == type_]


# -- waiting_for: one row per gate -------------------------------------------------------------------
def test_each_gate_says_what_holds_the_workload():
    d = Driver(make_plan("flight", approval="manual"))
    assert status(d)["waiting_for"] == [
        {"gate": "assets", "pending": ["a", "b"], "pending_count": 2, "replicated": 0, "total": 2}
    ]
    d.replicate()
    assert status(d)["waiting_for"] == [{"gate": "tests", "needs": "tests-passed"}]
    d.send("tests-passed")
    assert status(d)["waiting_for"] == [{"gate": "approval", "approvers": [APPROVER]}]
    d.override("pause")
    assert [g["gate"] for g in status(d)["waiting_for"]] == ["approval", "paused"]
    d.override("resume")
    d.override("approve", actor=APPROVER)
    assert status(d)["waiting_for"] == [
        {"gate": "bake", "flight": 1, "until": "2026-11-26T22:00:30Z", "seconds_left": 30},
        {"gate": "verdict", "flight": 1, "needs": "flight-healthy", "since": "2026-11-26T22:00:00Z"},
    ]
    d.send("flight-healthy", flight=1)
    d.tick(10)
    assert status(d)["waiting_for"] == [
        {"gate": "bake", "flight": 1, "until": "2026-11-26T22:00:30Z", "seconds_left": 20}
    ]
    d.send("alert")
    assert status(d)["waiting_for"] == [{"gate": "retry", "needs": "override retry", "operators": [OPERATOR, APPROVER]}]


def test_the_release_gate_names_the_workloads_a_staged_release_waits_for():
    d = Driver(make_plan("staged", workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}]))
    d.replicate("w1")
    d.send("tests-passed", "w1")
    assert status(d)["waiting_for"] == [
        {"gate": "approval", "approvers": [APPROVER]},
        {"gate": "release", "workloads": ["w2"], "workload_count": 1},
    ]
    d.override("approve", actor=APPROVER, workload=None)
    assert gates(d) == ["release"] and gates(d, "w2") == ["assets"]


def test_terminal_workloads_show_only_the_finish_gates_and_hold_on_nothing_else():
    d = Driver(make_plan("single-step"))
    d.replicate()
    d.send("tests-passed")
    assert d.wl().state == "promoted" and gates(d) == ["finalize"]  # an approver's finalize is still to come
    assert waiting_for(d.release, d.wl(), d.w.clock.now(), holding=True) == []
    d2 = Driver(make_plan("single-step"))
    d2.override("abort")
    assert gates(d2) == []


def test_status_text_lists_what_each_workload_waits_for():
    d = Driver(make_plan("single-step", approval="manual", windows=FRIDAY_EVENING))
    d.replicate()
    d.send("tests-passed")
    text = status_text(d.release, d.w.clock.now())
    assert (
        # the registry's one text (gates.describe): the opening in the window's own zone and in UTC
        "w1 waits for: approval by one of ana@contoso.com; change window closed (outside the allowed slots), "
        "opens 2026-11-27 20:00 Europe/Amsterdam (19:00Z)" in text
    )


# -- change windows ----------------------------------------------------------------------------------
def test_a_closed_window_holds_the_promotion_which_happens_by_itself_when_it_opens():
    d = Driver(make_plan("single-step", windows=FRIDAY_EVENING))
    d.replicate()
    r = d.send("tests-passed")
    assert (r.outcome, d.wl().state, d.routed()) == ("applied", "ready", 0)
    # the opening in the plan's zone, named, and in UTC (issue 29, 12: no UTC time labelled with the zone)
    assert (
        "held: change window closed (outside the allowed slots), opens 2026-11-27 20:00 Europe/Amsterdam (19:00Z)"
        in r.reason
    )
    assert status(d)["waiting_for"][0]["gate"] == "window"
    [(timer, due)] = [(e, t) for e, t in d.w.scheduler.scheduled if e["type"] == "window-open"]
    assert due == OPENS
    d.send("tests-passed")  # another applied-or-ignored message does not schedule the opening again
    assert [e["type"] for e, _ in d.w.scheduler.scheduled] == ["window-open"]
    assert d.tick(UNTIL_OPEN - 1) == []
    [opened] = d.tick(1)
    assert (opened.outcome, d.wl().state, d.routed()) == ("applied", "promoted", 100)
    # the same timer again (a redelivery under another id) moves nothing twice
    again = d.w.service.handle(json.dumps({**timer, "id": timer["id"] + "-again"}))
    assert again.outcome == "ignored" and d.w.network.writes == [("r1", "w1", 100)]


def test_a_window_timer_that_arrives_early_is_rescheduled():
    d = Driver(make_plan("single-step", windows=FRIDAY_EVENING))
    d.replicate()
    d.send("tests-passed")
    [(timer, _)] = d.w.scheduler.scheduled
    d.w.scheduler.scheduled.clear()
    r = d.w.service.handle(json.dumps(timer))
    assert r.outcome == "ignored" and "arrived early" in r.reason and d.wl().state == "ready"
    assert [due for _, due in d.w.scheduler.scheduled] == [OPENS]


def test_flights_grow_only_inside_the_window_and_rollbacks_are_never_held():
    d = Driver(
        make_plan("flight", windows={"timezone": "UTC", "allow": [{"days": ["thu"], "from": "22:00", "to": "22:05"}]})
    )
    d.replicate()
    d.send("tests-passed")
    assert (d.wl().flight, d.routed()) == (1, 10)  # 22:00, inside the slot
    d.send("flight-healthy", flight=1)
    d.tick(400)  # bake over at 22:00:30, but the slot closed at 22:05
    assert (d.wl().flight, d.routed()) == (1, 10) and gates(d) == ["window"]
    r = d.send("alert")
    assert (r.outcome, d.wl().state, d.routed()) == ("applied", "rolled-back", 0)


def test_flight_growth_waits_for_the_window_after_bake_and_verdict():
    d = Driver(
        make_plan("flight", windows={"timezone": "UTC", "allow": [{"days": ["thu"], "from": "22:00", "to": "22:05"}]})
    )
    d.replicate()
    d.send("tests-passed")
    d.tick(400)
    r = d.send("flight-healthy", flight=1)
    assert "held: change window closed" in r.reason and d.wl().flight == 1
    [(timer, due)] = [(e, t) for e, t in d.w.scheduler.scheduled if e["type"] == "window-open"]
    assert due == datetime(2026, 12, 3, 22, 0, tzinfo=UTC)  # next Thursday
    d.tick((due - d.w.clock.now()).total_seconds())
    assert (d.wl().flight, d.routed()) == (2, 50)


def test_a_bake_timer_that_finds_the_window_closed_schedules_the_opening():
    d = Driver(
        make_plan("flight", windows={"timezone": "UTC", "allow": [{"days": ["thu"], "from": "22:00", "to": "22:05"}]})
    )
    d.replicate()
    d.send("tests-passed")
    d.send("flight-healthy", flight=1)  # healthy before the bake is over: the bake timer decides
    d.w.scheduler.scheduled.clear()
    d.w.clock.advance(400)
    d.w.service.handle(
        json.dumps(
            {
                "specversion": "1.0",
                "id": "bake",
                "source": "promote/timer",
                "type": "bake-elapsed",
                "data": {
                    "release": "r1",
                    "workload": "w1",
                    "flight": 1,
                    "attempt": 0,
                    "started_ms": int(T0.timestamp() * 1000),
                },
            }
        )
    )
    assert gates(d) == ["window"]
    [(timer, due)] = d.w.scheduler.scheduled
    assert timer["type"] == "window-open" and due == datetime(2026, 12, 3, 22, 0, tzinfo=UTC)


def test_an_approvers_advance_inside_a_denied_period_is_rejected_unless_the_plan_allows_it():
    freeze = {
        "timezone": "UTC",
        "deny": [{"from": "2026-11-26T00:00", "to": "2026-11-28T00:00", "reason": "black friday"}],
    }
    for allowed in (False, True):
        d = Driver(make_plan("flight", windows={**freeze, "advance_when_denied": allowed}))
        d.w.clock.current = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
        d.replicate()
        d.send("tests-passed")
        assert d.routed() == 10
        d.w.clock.current = T0
        r = d.override("advance", actor=APPROVER)
        if allowed:
            assert (r.outcome, d.routed()) == ("applied", 50)
        else:
            assert (r.outcome, d.routed()) == ("rejected", 10)
            assert "denied period: black friday" in r.reason and "2026-11-28T00:00:00Z" in r.reason


def test_an_approvers_advance_outside_the_allowed_slots_but_not_denied_grows_the_flight():
    d = Driver(
        make_plan("flight", windows={"timezone": "UTC", "allow": [{"days": ["thu"], "from": "22:00", "to": "22:05"}]})
    )
    d.replicate()
    d.send("tests-passed")
    d.tick(600)
    assert d.override("advance", actor=APPROVER).outcome == "applied" and d.routed() == 50


def test_a_staged_release_held_by_the_window_moves_at_once_when_it_opens():
    d = Driver(
        make_plan(
            "staged",
            approval="auto",
            windows=FRIDAY_EVENING,
            workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}],
        )
    )
    for name in ("w1", "w2"):
        d.replicate(name)
        d.send("tests-passed", name)
    assert gates(d, "w1") == gates(d, "w2") == ["window"]
    assert d.release.state == "in-progress"
    results = d.tick(UNTIL_OPEN)
    assert sorted(r.outcome for r in results) == ["applied", "ignored"]  # one timer each; the first moves both
    assert [w.state for w in d.release.workloads.values()] == ["promoted", "promoted"]
    assert sorted(d.w.network.writes) == [("r1", "w1", 100), ("r1", "w2", 100)]


# -- deadlines ---------------------------------------------------------------------------------------
def test_a_deadline_fires_once_per_waiting_period_and_is_recorded_with_how_long_it_waited():
    d = Driver(make_plan("single-step", deadlines={"testing": "1h"}))
    d.replicate()
    doc = status(d)
    assert (doc["deadline"], doc["overdue"]) == ("2026-11-26T23:00:00Z", False)
    [(timer, due)] = [(e, t) for e, t in d.w.scheduler.scheduled if e["type"] == "deadline"]
    assert due == T0 + timedelta(hours=1)
    [fired] = d.tick(3600)
    assert fired.outcome == "applied"
    [entry] = history(d, "deadline")
    assert entry.outcome == "applied" and entry.from_state == entry.to_state == "testing"
    assert "waited 1h for testing (deadline testing: 1h) in testing; on_deadline notify" in entry.reason
    assert status(d)["overdue"] is True
    again = d.w.service.handle(json.dumps({**timer, "id": "redecided-after-a-crash"}))
    assert again.outcome == "ignored" and "already fired" in again.reason
    assert [e.outcome for e in history(d, "deadline")] == ["applied", "ignored"]


def test_a_deadline_for_a_waiting_period_that_ended_is_ignored():
    d = Driver(make_plan("single-step", deadlines={"testing": "1h"}))
    d.replicate()
    d.send("tests-passed")
    [r] = d.tick(3600)
    assert r.outcome == "ignored" and "over" in r.reason and d.wl().state == "promoted"


def test_the_replicating_deadline_counts_from_apply():
    d = Driver(make_plan("single-step", deadlines={"replicating": "3d"}))
    [(timer, due)] = d.w.scheduler.scheduled
    assert timer["type"] == "deadline" and due == T0 + timedelta(days=3)
    assert status(d)["deadline"] == "2026-11-29T22:00:00Z"
    [r] = d.tick(3 * 86400)
    assert r.outcome == "applied" and "waited 3d for replicating" in r.reason


def test_on_deadline_pause_pauses_and_says_who_and_why():
    d = Driver(make_plan("single-step", approval="manual", deadlines={"approval": "8h"}, on_deadline="pause"))
    d.replicate()
    d.send("tests-passed")
    d.tick(8 * 3600)
    w = d.wl()
    assert (w.paused, w.paused_by, w.paused_at) == (True, "promote/deadline", T0 + timedelta(hours=8))
    paused = next(g for g in status(d)["waiting_for"] if g["gate"] == "paused")
    assert paused["by"] == "promote/deadline" and "waited 8h for approval" in paused["reason"]
    d.override("approve", actor=APPROVER)
    assert d.wl().state == "ready"  # paused: nothing moves until an operator resumes
    d.override("resume")
    assert d.wl().state == "promoted"


def test_the_verdict_deadline_counts_from_the_end_of_the_bake_and_rolls_back():
    d = Driver(make_plan("flight", deadlines={"verdict": "30m"}, on_deadline="rollback"))
    d.replicate()
    d.send("tests-passed")
    assert status(d)["deadline"] == "2026-11-26T22:30:30Z"  # 30s bake + 30m
    d.tick(30 * 60 + 29)
    assert d.wl().state == "flighting"
    d.tick(1)
    assert (d.wl().state, d.routed()) == ("rolled-back", 0)
    [entry] = history(d, "deadline")
    assert "rolled back to 0% (on_deadline: rollback)" in entry.reason and entry.to_state == "rolled-back"


def test_a_healthy_verdict_ends_the_verdict_period():
    d = Driver(make_plan("flight", deadlines={"verdict": "30m"}, on_deadline="rollback"))
    d.replicate()
    d.send("tests-passed")
    d.send("flight-healthy", flight=1)
    d.tick(31 * 60)
    assert (d.wl().state, d.wl().flight) == ("flighting", 2)
    assert [e.outcome for e in history(d, "deadline")] == ["ignored"]


def test_rollback_on_deadline_is_refused_for_models_without_flights():
    with pytest.raises(PlanError) as info:
        validate_plan(make_plan("staged", on_deadline="rollback"))
    assert "on_deadline" in str(info.value)


# -- after: releases that wait for others ------------------------------------------------------------
def after_plan(name: str, after: list[str], model: str = "single-step") -> dict:
    return {**make_plan(model), "release": name, "after": after, "workloads": [{"name": "w1", "assets": ["a"]}]}


def deliver(w, now=None) -> list:
    return [w.service.handle(json.dumps(e)) for e in w.scheduler.due(now or w.clock.now())]


def test_apply_refuses_an_unknown_release_and_a_release_waiting_for_itself():
    w = world()
    with pytest.raises(PlanError) as info:
        w.service.apply(validate_plan(after_plan("b", ["a"])))
    assert "after[0]: release 'a' was never applied" in str(info.value)
    with pytest.raises(PlanError) as info:
        validate_plan(after_plan("b", ["b"]))
    assert "cannot wait for itself" in str(info.value)
    assert w.store.list_releases() == []


def test_apply_refuses_a_cycle():
    w = world()
    w.service.apply(validate_plan(after_plan("a", [])))
    # a release that already names one not applied yet can only come from storage written otherwise
    # (an older version); apply must still refuse to close the loop
    w.store.releases["a"] = (w.store.releases["a"][0].evolve(plan=validate_plan(after_plan("a", ["c"]))), 5)
    w.store.create_release(new_release(validate_plan(after_plan("c", ["b"]))))
    with pytest.raises(PlanError) as info:
        w.service.apply(validate_plan(after_plan("b", ["a"])))
    assert "a cycle: b -> a -> c -> b" in str(info.value)


def test_a_release_waits_for_its_dependency_and_moves_when_it_is_promoted_without_anyone_sending_anything():
    w = world()
    w.service.apply(validate_plan(after_plan("a", [])))
    w.service.apply(validate_plan(after_plan("b", ["a"])))
    assert w.store.get_release("a").release.dependants == ("b",)
    for release in ("b", "a"):
        w.service.handle(event("asset-replicated", release, "w1", f"{release}-1", asset="a"))
    r = w.service.handle(event("tests-passed", "b", "w1", "b-2"))
    assert "held: waiting for release(s) a to be promoted" in r.reason
    b = w.store.get_release("b").release
    assert b.workloads["w1"].state == "ready" and [g.gate for g in waiting_for(b, b.workloads["w1"], T0)] == ["after"]
    assert status_json(b, T0)["after"] == [{"release": "a", "promoted": False}]
    w.service.handle(event("tests-passed", "a", "w1", "a-2"))  # a is promoted: b hears of it, once a committed
    assert deliver(w) == []
    [told] = deliver(w, w.clock.now() + DEPENDENCY_NOTICE_DELAY)
    assert told.outcome == "applied" and "release a is promoted" in told.reason
    b = w.store.get_release("b").release
    assert (b.workloads["w1"].state, b.after_met) == ("promoted", ("a",))
    assert w.network.shares[("b", "w1")] == 100


def test_a_dependency_met_while_the_window_is_closed_waits_for_the_opening():
    w = world()
    w.service.apply(validate_plan(after_plan("a", [])))
    w.service.apply(validate_plan({**after_plan("b", ["a"]), "windows": FRIDAY_EVENING}))
    w.service.handle(event("asset-replicated", "b", "w1", "b-1", asset="a"))
    w.service.handle(event("tests-passed", "b", "w1", "b-2"))
    assert w.scheduler.scheduled == []  # after and the window hold it: nothing to wake yet
    w.service.handle(event("asset-replicated", "a", "w1", "a-1", asset="a"))
    w.service.handle(event("tests-passed", "a", "w1", "a-2"))
    [told] = deliver(w, w.clock.now() + DEPENDENCY_NOTICE_DELAY)
    assert told.outcome == "applied" and "held: change window closed" in told.reason
    [(timer, due)] = w.scheduler.scheduled
    assert timer["type"] == "window-open" and due == OPENS
    w.clock.current = OPENS
    [opened] = deliver(w)
    assert opened.outcome == "applied" and w.network.shares[("b", "w1")] == 100


def test_a_notice_that_beat_the_dependencys_commit_makes_the_release_look_again_by_itself():
    """The notice is scheduled before the dependency's commit; a commit slower than the delay (or lost to a
    crash and redone after the lock) means the notice reads `in-progress`. The waiting release looks again."""
    w = world()
    w.service.apply(validate_plan(after_plan("a", [])))
    w.service.apply(validate_plan(after_plan("b", ["a"])))
    for release in ("b", "a"):
        w.service.handle(event("asset-replicated", release, "w1", f"{release}-1", asset="a"))
    w.service.handle(event("tests-passed", "b", "w1", "b-2"))
    real_commit, early = w.store.commit, []

    def slow_commit(snapshot, decision, event_id, now=None):  # the notice is delivered while a's commit runs
        if snapshot.release.name == "a" and not early:
            early.extend(deliver(w, w.clock.now() + DEPENDENCY_NOTICE_DELAY))
        real_commit(snapshot, decision, event_id, now)

    w.store.commit = slow_commit
    w.service.handle(event("tests-passed", "a", "w1", "a-2"))
    [read_early] = early
    assert read_early.outcome == "ignored" and "release a is in-progress, not promoted" in read_early.reason
    assert "looking again at" in read_early.reason
    assert w.store.get_release("b").release.workloads["w1"].state == "ready"
    [(again, due)] = w.scheduler.scheduled
    assert again["type"] == "dependency-promoted" and again["data"]["recheck"] == 1
    assert due == w.clock.now() + DEPENDENCY_RECHECKS[0]
    assert deliver(w, due - timedelta(seconds=1)) == []
    [told] = deliver(w, due)
    assert told.outcome == "applied" and "release a is promoted" in told.reason
    assert w.store.get_release("b").release.workloads["w1"].state == "promoted" and w.scheduler.scheduled == []


def test_a_release_looks_again_at_most_three_times_and_not_once_it_is_over():
    w = world()
    w.service.apply(validate_plan(after_plan("a", [])))
    w.service.apply(validate_plan(after_plan("b", ["a"])))
    w.service.handle(event("dependency-promoted", "b", None, "told-early", dependency="a"))
    looks = 0
    while w.scheduler.scheduled:
        [(again, due)] = w.scheduler.scheduled
        looks += 1
        assert again["data"]["recheck"] == looks
        [r] = deliver(w, due)
        assert r.outcome == "ignored"
    assert looks == len(DEPENDENCY_RECHECKS) == 3
    # a release whose workloads are all over does not look at all
    w.service.apply(validate_plan(after_plan("c", ["a"])))
    w.service.handle(event("override", "c", "w1", "c-abort", action="abort", actor=APPROVER, reason="cancelled"))
    assert w.store.get_release("c").release.workloads["w1"].state == "aborted"
    r = w.service.handle(event("dependency-promoted", "c", None, "told-late", dependency="a"))
    assert r.outcome == "ignored" and "looking again" not in r.reason and w.scheduler.scheduled == []


def test_a_forged_dependency_message_opens_nothing():
    w = world()
    w.service.apply(validate_plan(after_plan("a", [])))
    w.service.apply(validate_plan(after_plan("b", ["a"])))
    forged = event("dependency-promoted", "b", None, "forged", dependency="a", state="promoted")
    r = w.service.handle(forged)
    assert r.outcome == "ignored" and "release a is in-progress, not promoted" in r.reason
    assert w.store.get_release("b").release.after_met == ()


def test_a_release_applied_after_its_dependency_was_promoted_does_not_wait():
    w = world()
    w.service.apply(validate_plan(after_plan("a", [])))
    w.service.handle(event("asset-replicated", "a", "w1", "a-1", asset="a"))
    w.service.handle(event("tests-passed", "a", "w1", "a-2"))
    w.service.apply(validate_plan(after_plan("b", ["a"])))
    b = w.store.get_release("b").release
    assert b.after_met == ("a",) and w.store.get_release("a").release.dependants == ()


def test_a_promotion_between_the_check_and_the_registration_is_told_by_apply():
    w = world()
    w.service.apply(validate_plan(after_plan("a", [])))
    real_add = w.store.add_dependant

    def promote_first(snapshot, dependant):  # a's promotion commits between b's read and b's write
        w.store.add_dependant = real_add
        w.service.handle(event("asset-replicated", "a", "w1", "a-1", asset="a"))
        w.service.handle(event("tests-passed", "a", "w1", "a-2"))
        real_add(snapshot, dependant)

    w.store.add_dependant = promote_first
    w.service.apply(validate_plan(after_plan("b", ["a"])))
    assert w.store.get_release("b").release.after_met == ()
    [told] = deliver(w)
    assert told.outcome == "applied" and w.store.get_release("b").release.after_met == ("a",)


def test_reapplying_completes_an_interrupted_registration():
    w = world()
    w.service.apply(validate_plan(after_plan("a", [])))
    plan_b = validate_plan(after_plan("b", ["a"]))
    w.store.create_release(new_release(plan_b, T0))  # as if apply died between create and registration
    assert w.service.apply(plan_b).action == "unchanged"
    assert w.store.get_release("a").release.dependants == ("b",)


def test_a_dependency_message_is_decided_again_each_time_and_changes_nothing_twice():
    w = world()
    w.service.apply(validate_plan(after_plan("a", [])))
    w.service.apply(validate_plan(after_plan("b", ["a"])))
    w.service.handle(event("asset-replicated", "a", "w1", "a-1", asset="a"))
    w.service.handle(event("tests-passed", "a", "w1", "a-2"))
    [(told, _)] = w.scheduler.scheduled
    first = w.service.handle(json.dumps(told))
    again = w.service.handle(json.dumps(told))
    other = w.service.handle(json.dumps({**told, "id": "another-id"}))
    assert (first.outcome, again.outcome, other.outcome) == ("applied", "ignored", "ignored")
    assert "already seen promoted" in again.reason and w.store.get_release("b").release.after_met == ("a",)


def test_a_notice_whose_predictable_id_was_taken_first_by_another_message_still_counts():
    """Notice ids are predictable; a message sent with one first (rejected, but its id kept) must not make
    the real notice a duplicate that nobody hears."""
    w = world()
    w.service.apply(validate_plan(after_plan("a", [])))
    w.service.apply(validate_plan(after_plan("b", ["a"])))
    for release in ("b", "a"):
        w.service.handle(event("asset-replicated", release, "w1", f"{release}-1", asset="a"))
    w.service.handle(event("tests-passed", "b", "w1", "b-2"))
    w.service.handle(event("tests-passed", "a", "w1", "a-2"))
    [(told, due)] = w.scheduler.scheduled
    taken = w.service.handle(event("asset-replicated", "b", "w1", told["id"], asset="no-such-asset"))
    assert taken.outcome in ("rejected", "ignored")
    [heard] = deliver(w, due)
    assert heard.outcome == "applied" and w.store.get_release("b").release.workloads["w1"].state == "promoted"


def test_waiting_periods_have_a_key_per_stretch_of_waiting():
    d = Driver(make_plan("single-step", deadlines={"testing": "1h"}))
    d.replicate()
    period = waiting_period(d.release, d.wl())
    assert period is not None and period.kind == "testing" and period.key == f"testing:{int(T0.timestamp() * 1000)}"


def test_a_dependency_notice_read_before_the_promotion_was_committed_counts_when_it_comes_again():
    """The notice is read against the dependency's committed state: read too early, it is ignored and its id
    is not remembered, so the same notice after the commit (a redelivery) opens the gate."""
    w = world()
    w.service.apply(validate_plan(after_plan("a", [])))
    w.service.apply(validate_plan(after_plan("b", ["a"])))
    for release in ("b", "a"):
        w.service.handle(event("asset-replicated", release, "w1", f"{release}-1", asset="a"))
    w.service.handle(event("tests-passed", "b", "w1", "b-2"))
    notice = event("dependency-promoted", "b", None, "dependency-promoted:b:a:1", dependency="a")
    early = w.service.handle(notice)  # a is not promoted yet
    assert early.outcome == "ignored"
    w.service.handle(event("tests-passed", "a", "w1", "a-2"))  # now it is
    again = w.service.handle(notice)
    assert again.outcome == "applied" and w.store.get_release("b").release.workloads["w1"].state == "promoted"
