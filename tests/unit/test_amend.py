"""Safe amends of a running release (v3 §19): deadlines, windows, notify, health thresholds, approvers and
operators may change, recorded in history with what changed; anything else is refused naming the fields; a
deadline made shorter or a window moved earlier is woken by the new plan, not the old timers."""

from __future__ import annotations

import pytest

from shared.domain.errors import PlanChangeRefused
from shared.domain.plan import validate_plan
from shared.domain.plan.amend import amendment
from tests.unit.test_machine import Driver, make_plan

HEALTH = {
    "interval": "30s",
    "checks": [{"name": "errors", "provider": "local", "max": 0.05}, {"name": "p95", "provider": "local", "max": 800}],
}
# T0 (tests/fakes.py) is 22:00 UTC: a window from 23:00 holds the move for an hour
LATE = {"timezone": "UTC", "allow": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": "23:00",
                                      "to": "23:30"}]}  # fmt: skip
NOW_OPEN = {**LATE, "allow": [{**LATE["allow"][0], "from": "21:00"}]}


def changed(before: dict, **after):
    return amendment(validate_plan(before), validate_plan({**before, **after}))


def test_safe_fields_change_and_say_what_changed():
    base = make_plan("flight", health=HEALTH, deadlines={"approval": "1h"})
    change = changed(base, deadlines={"approval": "2h"}, operators=["night@contoso.com"])
    assert (change.changed, change.refused) == (["deadlines", "operators"], [])
    assert change.details[0] == 'deadlines: {"approval":3600,"replicating":null,"testing":null,"verdict":null} -> ' \
        '{"approval":7200,"replicating":null,"testing":null,"verdict":null}'  # fmt: skip
    thresholds = {**HEALTH, "failure_limit": 3, "checks": [{**HEALTH["checks"][0], "max": 0.1}, HEALTH["checks"][1]]}
    change = changed(base, health=thresholds)
    assert (change.changed, change.refused) == (["health.failure_limit", "health.checks[errors].max"], [])


@pytest.mark.parametrize(
    ("edit", "refused"),
    [
        (
            {"flights": [{"percent": 50, "bake": "1m"}, {"percent": 100, "bake": "0s"}], "wave": "w"},
            ["flights", "wave"],
        ),
        ({"on_deadline": "pause"}, ["on_deadline"]),
        ({"workloads": [{"name": "w1", "assets": ["a"]}]}, ["workloads"]),
        ({"health": {**HEALTH, "interval": "10s"}}, ["health"]),  # how it is judged, not a threshold
        ({"health": {**HEALTH, "checks": HEALTH["checks"][:1]}}, ["health"]),  # which checks run
        ({"health": None}, ["health"]),
    ],
)
def test_other_changes_are_refused_naming_the_fields(edit, refused):
    change = changed(make_plan("flight", health=HEALTH), **edit, operators=["x@contoso.com"])
    assert change.refused == refused


def test_a_workloads_own_health_thresholds_may_change_and_nothing_else_of_it():
    base = make_plan("flight", workloads=[{"name": "w1", "assets": ["a"], "health": HEALTH}])
    tighter = {**HEALTH, "checks": [HEALTH["checks"][0], {**HEALTH["checks"][1], "min_samples": 5}]}
    change = changed(base, workloads=[{"name": "w1", "assets": ["a"], "health": tighter}])
    assert (change.changed, change.refused) == (["workloads[w1].health.checks[p95].min_samples"], [])
    other = {**HEALTH, "checks": [{**HEALTH["checks"][0], "name": "faults"}, HEALTH["checks"][1]]}
    assert changed(base, workloads=[{"name": "w1", "assets": ["a"], "health": other}]).refused == ["workloads"]


def test_apply_of_an_amended_plan_updates_it_and_records_what_changed():
    d = Driver(make_plan("single-step", deadlines={"approval": "1h"}))
    amended = validate_plan({**make_plan("single-step"), "deadlines": {"approval": "2h"}})
    assert d.w.service.apply(amended).action == "updated"
    assert d.release.plan == amended
    [entry] = [e for e in d.w.store.list_history("r1") if e.type == "plan-amended"]
    assert entry.workload is None and entry.outcome == "applied"
    assert entry.reason.startswith('plan amended: deadlines: {"approval":3600,') and '{"approval":7200,' in entry.reason


def test_apply_of_a_plan_that_changes_more_is_refused_naming_the_fields_and_changes_nothing():
    d = Driver(make_plan("single-step"))
    refused = validate_plan({**make_plan("single-step"), "on_alert": "pause", "operators": ["x@contoso.com"]})
    with pytest.raises(PlanChangeRefused, match=r"\(this plan changes on_alert\)") as caught:
        d.w.service.apply(refused)
    assert "only deadlines, windows, notify, health thresholds, approvers and operators may change" in str(caught.value)
    assert d.release.plan == d.plan and d.w.store.list_history("r1") == []


def test_a_window_moved_earlier_lets_the_held_move_go_now():
    d = Driver(make_plan("single-step", windows=LATE))
    d.replicate()
    d.send("tests-passed")
    assert d.release.workloads["w1"].state == "ready" and d.routed() == 0  # held by the window until 23:00
    d.w.service.apply(validate_plan(make_plan("single-step", windows=NOW_OPEN)))
    d.tick(0)
    assert d.release.workloads["w1"].state == "promoted" and d.routed() == 100


def test_a_window_amended_but_still_closed_holds_it_until_its_new_opening():
    d = Driver(make_plan("single-step", windows=LATE))
    d.replicate()
    d.send("tests-passed")
    later = {**LATE, "allow": [{**LATE["allow"][0], "from": "23:20"}]}
    d.w.service.apply(validate_plan(make_plan("single-step", windows=later)))
    d.tick(0)
    assert d.release.workloads["w1"].state == "ready"
    d.tick(60 * 60)  # 23:00: the old opening moves nothing
    assert d.release.workloads["w1"].state == "ready"
    d.tick(20 * 60)  # 23:20
    assert d.release.workloads["w1"].state == "promoted"


def test_a_deadline_made_shorter_fires_at_its_new_time():
    d = Driver(make_plan("single-step", deadlines={"replicating": "2h"}, on_deadline="pause"))
    d.w.service.apply(validate_plan(make_plan("single-step", deadlines={"replicating": "10m"}, on_deadline="pause")))
    d.tick(11 * 60)
    w = d.release.workloads["w1"]
    assert w.paused and w.paused_by == "promote/deadline"
