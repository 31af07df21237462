"""The judge's window ends where Monitor's data is in (issue 26): `now` minus the ingestion delay (Azure Monitor
documents logs as typically 20 s to 3 minutes late, platform metrics a couple of minutes: 3 minutes by default;
`health: {ingestion_delay: ...}` sets it). An evaluation before any of the flight's data can be in is
inconclusive, never a pass, and the bake is over for the judge only once the data covers it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.domain.errors import PlanError
from shared.domain.plan import validate_plan
from tests.fakes import world
from tests.judge_fakes import judge_for
from tests.unit.test_judge import R, flighting, history, state

WS = "11111111-2222-3333-4444-555555555555"
SUB = "00000000-0000-0000-0000-000000000000"
VM = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
LOGS = {
    "name": "errors",
    "provider": "azure-monitor-logs",
    "workspace": WS,
    "query": "requests | summarize value = 0.0, samples = count()",
    "max": 1.0,
    "min_samples": 100,
}
CPU = {
    "name": "cpu",
    "provider": "azure-monitor-metrics",
    "resource": VM,
    "metric": "Percentage CPU",
    "max": 80,
    "region": "westeurope",
}
ONE_FLIGHT = [{"percent": 100, "bake": "0s"}]


def health(*checks: dict, **extra) -> dict:
    return {"interval": "1m", "failure_limit": 2, "inconclusive_limit": 2, "checks": list(checks), **extra}


def test_before_the_flights_data_can_be_in_an_evaluation_is_inconclusive_and_reads_nothing():
    w = world()
    flighting(w, health(LOGS), flights=ONE_FLIGHT)
    judge, records, source, _ = judge_for(w)
    source.set("payroll", "errors", 0.0, 900)  # Monitor would say healthy: of the data in so far
    started = state(w).flight_started_at
    for _ in range(3):  # evaluations 1 to 3: the window would end at or before the flight began
        w.clock.advance(60)
        assert judge.round().evaluated == 1
    assert source.calls == 0 and state(w).state == "flighting" and history(w) == []
    record = records.load(R)["payroll"]
    [result] = record.results
    assert (result.outcome, result.passed) == ("inconclusive", False)
    assert "no complete data yet" in result.error and "ingestion_delay" in result.error
    # three waits with inconclusive_limit 2: Monitor's delay is no sign of trouble, so nothing was counted
    assert record.streaks.get("errors") is None or record.streaks["errors"].inconclusive == 0
    w.clock.advance(60)
    judge.round()
    [(start, end)] = source.windows
    assert end == w.clock.now() - timedelta(minutes=3) and start == started
    assert state(w).state == "promoted"


def test_every_window_ends_the_ingestion_delay_before_now():
    w = world()
    flighting(w, health(LOGS, CPU), flights=ONE_FLIGHT)
    judge, _, source, _ = judge_for(w)
    source.set("payroll", "errors", 5.0, 900)  # failing: each evaluation reads
    source.set("payroll", "cpu", 10.0, 60)
    w.clock.advance(600)
    judge.round()
    start, end = source.windows[-1]
    assert end == w.clock.now() - timedelta(seconds=180)
    assert end - start == timedelta(minutes=5)  # the usual length, ending where the data is in


def test_the_bake_is_over_once_the_data_covers_it():
    w = world()
    flighting(w, health(LOGS), flights=[{"percent": 100, "bake": "5m"}])
    judge, _, source, _ = judge_for(w)
    source.set("payroll", "errors", 0.0, 900)
    for _ in range(7):  # 7 minutes in: the data in covers only the first 4 minutes of the 5-minute bake
        w.clock.advance(60)
        judge.round()
        assert state(w).state == "flighting"
    w.clock.advance(60)
    judge.round()
    assert state(w).state == "promoted"
    [entry] = history(w)
    assert entry.type == "flight-healthy" and "judge evaluation 8" in entry.reason


def test_a_plan_sets_the_delay_and_local_checks_have_none():
    w = world()
    flighting(w, health(LOGS, ingestion_delay="30s"), flights=ONE_FLIGHT)
    judge, _, source, _ = judge_for(w)
    source.set("payroll", "errors", 0.0, 900)
    w.clock.advance(60)
    judge.round()
    assert source.windows[-1][1] == w.clock.now() - timedelta(seconds=30) and state(w).state == "promoted"

    local = world()
    flighting(local, health({"name": "errors", "provider": "local", "max": 1.0}), flights=ONE_FLIGHT)
    judge, _, source, _ = judge_for(local)
    source.set("payroll", "errors", 0.0, 900)
    local.clock.advance(60)
    judge.round()
    assert source.windows[-1][1] == local.clock.now() and state(local).state == "promoted"


@pytest.mark.parametrize(
    "checks, delay, expected",
    [
        ([LOGS], None, 180),
        ([CPU], None, 180),
        ([{"name": "e", "provider": "local", "max": 1}], None, 0),
        ([{"name": "e", "provider": "local", "max": 1}, CPU], None, 180),  # the slowest provider's
        ([LOGS], "90s", 90),
        ([LOGS], 0, 0),
    ],
)
def test_the_delay_of_a_health_section(checks, delay, expected):
    extra = {} if delay is None else {"ingestion_delay": delay}
    plan = validate_plan(
        {
            "release": R,
            "model": "flight",
            "flights": ONE_FLIGHT,
            "health": health(*checks, **extra),
            "workloads": [{"name": "payroll", "assets": ["vm-1"]}],
        }
    )
    assert plan.health.delay == expected


@pytest.mark.parametrize("delay", ["2h", "-1s", "soon"])
def test_an_ingestion_delay_out_of_bounds_is_refused_with_its_path(delay):
    with pytest.raises(PlanError) as refused:
        validate_plan(
            {
                "release": R,
                "model": "flight",
                "flights": ONE_FLIGHT,
                "health": health(LOGS, ingestion_delay=delay),
                "workloads": [{"name": "payroll", "assets": ["vm-1"]}],
            }
        )
    assert "health.ingestion_delay" in str(refused.value)
