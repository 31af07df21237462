"""The judge against fakes: verdicts through the real service, claims guarded by ETags, crashes, outages."""

from __future__ import annotations

import json

import pytest

from shared.domain.model import SEEN_WINDOW
from shared.domain.plan import validate_plan
from tests.fakes import event, world
from tests.judge_fakes import MemoryJudgeStore, judge_for

R = "wave-1"


def flighting(w, health: dict, flights=None, on_alert="rollback", workloads=("payroll",)):
    plan = validate_plan(
        {
            "release": R,
            "model": "flight",
            "on_alert": on_alert,
            "operators": ["ops@contoso.com"],
            "flights": flights or [{"percent": 10, "bake": "30s"}, {"percent": 100, "bake": "0s"}],
            "health": health,
            "workloads": [{"name": n, "assets": ["vm-1"]} for n in workloads],
        }
    )
    w.service.apply(plan)
    for n in workloads:
        w.service.handle(event("asset-replicated", R, n, f"rep-{n}", asset="vm-1"))
        w.service.handle(event("tests-passed", R, n, f"tests-{n}"))
    return plan


HEALTH = {
    "interval": "10s",
    "failure_limit": 2,
    "inconclusive_limit": 3,
    "checks": [{"name": "errors", "provider": "local", "max": 1.0, "min_samples": 100}],
}


def state(w, name="payroll"):
    return w.store.get_release(R).release.workloads[name]


def history(w, name="payroll"):
    return [e for e in w.store.list_history(R, name) if e.source == "promote/judge"]


def test_inconclusive_holds_then_healthy_after_the_bake_grows_the_flight():
    w = world()
    flighting(w, HEALTH)
    judge, records, source, publisher = judge_for(w)
    source.set("payroll", "errors", 0.2, 0)
    w.clock.advance(10)
    run = judge.round()
    assert run.evaluated == 1 and run.published == [] and state(w).flight == 1
    source.set("payroll", "errors", 0.2, 800)
    w.clock.advance(10)
    assert judge.round().published == []  # passing, but the bake (30s) is not over
    w.clock.advance(10)
    run = judge.round()
    assert len(run.published) == 1 and state(w).flight == 2 and state(w).traffic_percent == 100
    [entry] = history(w)
    assert entry.outcome == "applied" and entry.type == "flight-healthy"
    assert "judge evaluation 3: errors 0.2 passed (max 1, 800 samples)" in entry.reason
    verdict = publisher.published[0]
    assert verdict["source"] == "promote/judge" and verdict["id"].startswith(f"judge:{R}:payroll:0:1:")
    assert verdict["data"]["checks"][0] == {
        "name": "errors",
        "value": 0.2,
        "samples": 800,
        "max": 1.0,
        "min": None,
        "min_samples": 100,
        "passed": True,
        "outcome": "passed",
        "in_a_row": 1,
        "error": None,
    }
    # flight 2 (100%, no bake) is judged from its own start
    w.clock.advance(10)
    judge.round()
    assert state(w).state == "promoted"


def test_a_failing_check_rolls_back_during_the_bake_with_the_values_in_history():
    w = world()
    flighting(w, HEALTH)
    judge, _, source, _ = judge_for(w)
    source.set("payroll", "errors", 4.5, 900)
    w.clock.advance(10)
    judge.round()
    assert state(w).state == "flighting"
    w.clock.advance(10)
    judge.round()
    assert state(w).state == "rolled-back" and state(w).traffic_percent == 0
    [entry] = history(w)
    assert entry.type == "flight-unhealthy" and "errors 4.5 FAILED (max 1, 900 samples), 2 in a row" in entry.reason
    assert "rolled back to 0%" in entry.reason


def test_a_monitor_outage_never_promotes_and_ends_in_no_data():
    w = world()
    flighting(w, HEALTH)
    judge, _, source, publisher = judge_for(w)
    source.failure = TimeoutError("monitor did not answer")
    for _ in range(3):
        w.clock.advance(10)
        judge.round()
    assert state(w).state == "rolled-back"
    [entry] = history(w)
    assert (
        "unhealthy (no data: judge evaluation 3: errors no data (TimeoutError: monitor did not answer)" in entry.reason
    )
    assert publisher.published[0]["data"]["cause"] == "no-data"


def test_missed_rounds_do_not_count_as_evaluations_and_the_window_is_recent_data_of_this_flight():
    w = world()
    flighting(w, HEALTH)
    judge, records, source, _ = judge_for(w)
    source.set("payroll", "errors", 5.0, 900)
    w.clock.advance(55)  # five intervals passed while no judge ran: one evaluation now, numbered 5
    judge.round()
    assert records.load(R)["payroll"].evaluation == 5 and state(w).state == "flighting"
    start, end = source.windows[-1]
    assert start == state(w).flight_started_at  # at least 5 minutes back, but never before the flight began
    w.clock.advance(600)
    judge.round()
    start, end = source.windows[-1]
    assert (end - start).total_seconds() == 300  # Monitor's data arrives minutes late: a 10s window may be empty
    assert judge.round().evaluated == 0  # the same evaluation is not made twice


def test_two_judges_at_once_claim_each_evaluation_once():
    w = world()
    flighting(w, HEALTH)
    records = MemoryJudgeStore()
    first, _, source, publisher = judge_for(w, records=records)
    second, *_ = judge_for(w, records=records, source=source, publisher=publisher)
    source.set("payroll", "errors", 9.0, 900)
    w.clock.advance(10)
    loaded = records.load(R)  # the second judge read the record before the first one wrote it
    records.load = lambda release, _loaded=loaded: dict(_loaded)  # type: ignore[method-assign]
    assert first.round().evaluated == 1
    run = second.round()
    assert run.evaluated == 0 and run.conflicts == 1


def test_a_judge_killed_between_claim_and_publish_publishes_the_same_verdict_next_round():
    w = world()
    flighting(w, HEALTH)
    judge, records, source, publisher = judge_for(w)
    source.set("payroll", "errors", 9.0, 900)
    w.clock.advance(10)
    judge.round()
    w.clock.advance(10)
    publisher.fail_next = 1  # the process dies as it publishes
    try:
        judge.round()
    except RuntimeError:
        pass
    assert state(w).state == "flighting" and records.load(R)["payroll"].published is False
    run = judge.round()  # a later round (no new evaluation is due) publishes what was claimed
    assert len(run.published) == 1 and state(w).state == "rolled-back"
    assert records.load(R)["payroll"].published is True
    w.service.handle(json.dumps(publisher.published[-1]))  # killed before marking it: published twice, same id
    outcomes = [e.outcome for e in history(w)]
    assert outcomes == ["applied", "duplicate"]


def test_paused_flights_are_not_judged_and_on_alert_pause_is_judged_again_after_resume():
    w = world()
    flighting(w, HEALTH, on_alert="pause")
    judge, records, source, _ = judge_for(w)
    source.set("payroll", "errors", 9.0, 900)
    w.clock.advance(20)
    judge.round()
    w.clock.advance(10)
    judge.round()
    assert state(w).paused and state(w).state == "flighting"
    w.clock.advance(10)
    assert judge.round().evaluated == 0  # paused: nothing is judged
    w.service.handle(
        event("override", R, "payroll", "resume", action="resume", actor="ops@contoso.com", reason="fixed")
    )
    source.set("payroll", "errors", 0.1, 900)
    w.clock.advance(10)
    judge.round()
    assert (state(w).state, state(w).flight, state(w).traffic_percent, state(w).paused) == ("flighting", 2, 100, False)


def lagging_flight(w):
    """A judged flight (on_alert: pause) whose data lags behind: flight 1 is flighting and may not grow.
    Returns `lag(seconds, id)`, which reports the replica's lag."""
    plan = validate_plan(
        {
            "release": R,
            "model": "flight",
            "on_alert": "pause",
            "operators": ["ops@contoso.com"],
            "flights": [{"percent": 10, "bake": "0s"}, {"percent": 100, "bake": "0s"}],
            "health": HEALTH,
            "workloads": [{"name": "payroll", "assets": ["vm-1"], "data_sync": {"max_lag": "10s", "max_age": "1h"}}],
        }
    )
    w.service.apply(plan)

    def lag(seconds, id_):
        return w.service.handle(
            event(
                "replication-lag",
                R,
                "payroll",
                id_,
                lag_seconds=seconds,
            )
        )

    lag(1.0, "lag-1")
    w.service.handle(event("asset-replicated", R, "payroll", "rep", asset="vm-1"))
    w.service.handle(event("tests-passed", R, "payroll", "tests"))
    assert (state(w).state, state(w).flight) == ("flighting", 1)
    lag(45.0, "lag-2")  # the replica falls behind: flight 1 may not grow
    return lag


@pytest.mark.parametrize("held_reports", [0, SEEN_WINDOW])
def test_a_healthy_verdict_voided_by_an_alert_while_data_lagged_is_judged_anew_after_resume(held_reports):
    """Healthy, but the flight was held by lagging data; an alert (on_alert: pause) voids the verdict. After
    resume the judge must judge the flight again: its record says "done", the workload holds no verdict.
    However many lag reports came meanwhile (enough to push the verdict's id out of the release's window of
    recent ids)."""
    w = world()
    lag = lagging_flight(w)
    judge, records, source, publisher = judge_for(w)
    source.set("payroll", "errors", 0.1, 900)
    w.clock.advance(10)
    assert len(judge.round().published) == 1
    assert (state(w).flight, state(w).healthy_flight) == (1, 1)  # healthy, held by the lag
    for i in range(held_reports):  # the replica stays behind, a report a minute
        w.clock.advance(60)
        lag(45.0, f"lag-held-{i}")
    w.service.handle(event("alert", R, "payroll", "alert-1", severity="Sev2", description="p95 up"))
    assert state(w).paused and state(w).healthy_flight == 0
    w.service.handle(
        event("override", R, "payroll", "resume", action="resume", actor="ops@contoso.com", reason="false alarm")
    )
    lag(0.5, "lag-3")
    assert (state(w).flight, state(w).paused) == (1, False)
    w.clock.advance(10)
    run = judge.round()
    assert len(run.published) == 1 and run.published[0] != publisher.published[0]["id"]
    assert (state(w).flight, state(w).traffic_percent) == (2, 100)
    w.clock.advance(10)
    judge.round()  # flight 2 is judged from its own start
    assert state(w).state == "promoted"


def test_a_healthy_verdict_measured_before_an_alert_does_not_count_after_it():
    """Issued before the alert that paused the flight, handled after it: the flight needs a verdict from after
    the alert, whatever order the messages arrived in."""
    w = world()
    flighting(w, HEALTH, on_alert="pause", flights=[{"percent": 10, "bake": "0s"}, {"percent": 100, "bake": "0s"}])
    measured = w.clock.now()
    w.clock.advance(10)  # the alert comes 10 s after the measurement: more than a monitor's clock may lag
    w.service.handle(event("alert", R, "payroll", "alert-1", severity="Sev2", description="p95 up"))
    late = w.service.handle(event("flight-healthy", R, "payroll", "h-early", time=measured, flight=1))
    assert late.outcome == "ignored" and "before the alert" in late.reason
    w.service.handle(
        event("override", R, "payroll", "resume", action="resume", actor="ops@contoso.com", reason="false alarm")
    )
    assert (state(w).flight, state(w).healthy_flight) == (1, 0)
    w.clock.advance(5)
    fresh = w.service.handle(event("flight-healthy", R, "payroll", "h-fresh", time=w.clock.now(), flight=1))
    assert fresh.outcome == "applied" and state(w).flight == 2


def test_workloads_without_health_and_other_models_are_left_alone():
    w = world()
    flighting(w, {"checks": [{"name": "errors", "provider": "local", "max": 1}]}, workloads=("payroll",))
    judge, _, source, _ = judge_for(w)
    w.service.handle(event("override", R, "payroll", "rb", action="rollback", actor="ops@contoso.com", reason="x"))
    w.clock.advance(600)
    run = judge.round()
    assert (run.judged, run.evaluated, source.calls) == (0, 0, 0)


def test_next_due_is_the_next_evaluation():
    w = world()
    flighting(w, HEALTH)
    judge, _, source, _ = judge_for(w)
    start = state(w).flight_started_at
    assert judge.round().next_due == start.__class__.fromtimestamp(start.timestamp() + 10, start.tzinfo)
    source.set("payroll", "errors", 0.1, 0)
    w.clock.advance(12)
    assert judge.round().next_due.timestamp() == start.timestamp() + 20


def test_a_verdict_of_another_judge_with_checks_is_validated():
    w = world()
    flighting(w, HEALTH)
    bad = event(
        "flight-healthy", R, "payroll", "v1", flight=1, checks=[{"name": "x", "passed": True, "outcome": "failed"}]
    )
    result = w.service.handle(bad)
    assert result.outcome == "rejected" and "passed must be true exactly when outcome is passed" in result.reason


def test_releases_without_checks_are_read_once_per_process():
    w = world()
    w.service.apply(
        validate_plan(
            {
                "release": "plain",
                "model": "flight",
                "flights": [{"percent": 100}],
                "workloads": [{"name": "web", "assets": ["vm-1"]}],
            }
        )
    )
    flighting(w, HEALTH)
    judge, *_ = judge_for(w)
    reads: list[str] = []
    get = w.store.get_release
    w.store.get_release = lambda name: (reads.append(name), get(name))[1]  # type: ignore[method-assign]
    judge.round()
    judge.round()
    assert reads.count("plain") == 1 and reads.count(R) == 2


# -- properties through the judge and the service ------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from shared.domain.health import Reading  # noqa: E402

TWO = {
    "interval": "10s",
    "failure_limit": 2,
    "inconclusive_limit": 3,
    "checks": [
        {"name": "errors", "provider": "local", "max": 1.0, "min_samples": 100},
        {"name": "latency", "provider": "local", "max": 300, "min_samples": 1},
    ],
}
reading = st.one_of(
    st.builds(
        Reading,
        value=st.sampled_from([0.1, 0.9, 1.5, 250.0, 400.0, None]),
        samples=st.sampled_from([0, 50, 100, 5000, None]),
    ),
    st.builds(Reading, error=st.just("HTTP 429: throttled")),
)
steps = st.lists(st.tuples(reading, reading, st.sampled_from([5, 10, 10, 20])), min_size=1, max_size=25)


@settings(max_examples=6 * settings.default.max_examples // 10, deadline=None)
@given(steps)
def test_no_verdict_sequence_promotes_on_an_inconclusive_check_or_fails_on_a_passing_one(sequence):
    w = world()
    flighting(w, TWO)
    judge, _, source, publisher = judge_for(w)
    for errors, latency, seconds in sequence:
        source.readings = {("payroll", "errors"): errors, ("payroll", "latency"): latency}
        w.clock.advance(seconds)
        judge.round()
    for verdict in publisher.published:
        checks = verdict["data"]["checks"]
        if verdict["type"] == "flight-healthy":
            assert all(c["passed"] and c["outcome"] == "passed" and c["samples"] >= c["min_samples"] for c in checks)
        else:
            limit = 2 if verdict["data"]["cause"] == "failed" else 3
            wanted = "failed" if verdict["data"]["cause"] == "failed" else "inconclusive"
            assert any(c["outcome"] == wanted and c["in_a_row"] >= limit for c in checks)
    healthy = {(v["data"]["flight"]) for v in publisher.published if v["type"] == "flight-healthy"}
    final = state(w)
    if final.state == "promoted":
        assert healthy == {1, 2}  # every flight grew on an all-passing evaluation only
    assert len({v["id"] for v in publisher.published}) == len(publisher.published)
