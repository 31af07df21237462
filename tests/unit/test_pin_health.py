"""promote's own judge, pure (shared/domain/health.py and the plan's health section): each check's outcome at
its bounds, the streaks, the verdict and the exact text history shows for the measured values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.errors import PlanError
from shared.domain.health import (
    CheckResult,
    JudgeRecord,
    Reading,
    Streak,
    describe,
    due_evaluation,
    evaluate,
    judge_reading,
    verdict_id,
    window_start,
)
from shared.domain.plan import Health, validate_plan

SUB = "00000000-0000-0000-0000-000000000001"


def _health(**fields) -> Health:
    checks = fields.pop("checks", [{"provider": "local", "name": "errors", "max": 5, "min": 1, "min_samples": 3}])
    return Health.model_validate({"checks": checks, **fields})


def _outcome(reading: Reading) -> tuple[str, str | None]:
    return judge_reading(_health().checks[0], reading)


def test_a_reading_is_judged_against_both_bounds_inclusive():
    assert _outcome(Reading(5, 3)) == ("passed", None)
    assert _outcome(Reading(5.0001, 3)) == ("failed", None)
    assert _outcome(Reading(1, 3)) == ("passed", None)
    assert _outcome(Reading(0.9999, 3)) == ("failed", None)


def test_too_few_samples_no_value_an_error_or_a_non_number_is_no_data():
    assert _outcome(Reading(2, 2)) == ("inconclusive", None)
    assert _outcome(Reading(2, None)) == ("inconclusive", None)
    assert _outcome(Reading(None, 9)) == ("inconclusive", None)
    assert _outcome(Reading(float("nan"), 9)) == ("inconclusive", "value nan is not a number")
    assert _outcome(Reading(float("inf"), 9)) == ("inconclusive", "value inf is not a number")
    assert _outcome(Reading(2, -1)) == ("inconclusive", "samples -1 is negative")
    assert _outcome(Reading(2, 9, error="x" * 301)) == ("inconclusive", "x" * 300)
    assert _outcome(Reading(2, 9, error="")) == ("passed", None)


def test_a_one_sided_check():
    only_max = _health(checks=[{"provider": "local", "name": "c", "max": 5}]).checks[0]
    assert judge_reading(only_max, Reading(-1e9, 1)) == ("passed", None)
    only_min = _health(checks=[{"provider": "local", "name": "c", "min": 5}]).checks[0]
    assert judge_reading(only_min, Reading(1e9, 1)) == ("passed", None)
    assert judge_reading(only_min, Reading(4, 1)) == ("failed", None)
    assert judge_reading(only_min, Reading(4, 0)) == ("inconclusive", None)


def test_streaks():
    assert Streak(2, 3).after("passed") == Streak(0, 0)
    assert Streak(2, 3).after("failed") == Streak(3, 0)
    assert Streak(2, 3).after("inconclusive") == Streak(2, 4)


def test_an_evaluation_carries_every_check_and_counts_in_a_row():
    health = _health(
        failure_limit=2,
        inconclusive_limit=3,
        checks=[
            {"provider": "local", "name": "errors", "max": 5},
            {"provider": "local", "name": "latency", "min": 1, "max": 9, "min_samples": 4},
        ],
    )
    first = evaluate(health, {}, {"errors": Reading(7, 2)}, bake_over=True)
    assert first.results == [
        CheckResult(
            name="errors",
            value=7,
            samples=2,
            max=5,
            min=None,
            min_samples=1,
            passed=False,
            outcome="failed",
            in_a_row=1,
            error=None,
        ),
        CheckResult(
            name="latency",
            value=None,
            samples=None,
            max=9,
            min=1,
            min_samples=4,
            passed=False,
            outcome="inconclusive",
            in_a_row=1,
            error="no reading",
        ),
    ]
    assert first.streaks == {"errors": Streak(1, 0), "latency": Streak(0, 1)}
    assert (first.verdict, first.cause, first.culprits, first.inconclusive) == (None, None, [], True)
    second = evaluate(
        health, first.streaks, {"errors": Reading(6, 2), "latency": Reading(float("nan"), -3)}, bake_over=True
    )
    assert (second.verdict, second.cause, second.culprits) == ("unhealthy", "failed", ["errors"])
    assert [(r.name, r.value, r.samples, r.in_a_row) for r in second.results] == [
        ("errors", 6, 2, 2),
        ("latency", None, None, 2),
    ]
    third = evaluate(health, second.streaks, {"errors": Reading(1, 1)}, bake_over=True)
    assert (third.verdict, third.cause, third.culprits) == ("unhealthy", "no-data", ["latency"])
    assert third.streaks == {"errors": Streak(0, 0), "latency": Streak(0, 3)}
    assert [(r.name, r.outcome, r.in_a_row) for r in third.results] == [
        ("errors", "passed", 1),
        ("latency", "inconclusive", 3),
    ]


def test_healthy_only_when_the_bake_is_over_and_every_check_passed():
    health = _health(checks=[{"provider": "local", "name": "errors", "max": 5}])
    assert evaluate(health, {}, {"errors": Reading(5, 1)}, bake_over=False).verdict is None
    done = evaluate(health, {}, {"errors": Reading(5, 1)}, bake_over=True)
    assert (done.verdict, done.cause, done.culprits, done.inconclusive) == ("healthy", None, [], False)
    assert done.results[0].in_a_row == 1
    assert done.streaks == {"errors": Streak(0, 0)}
    none = evaluate(health, {}, {"errors": Reading(1, 0)}, bake_over=True)
    assert (none.results[0].samples, none.results[0].outcome) == (0, "inconclusive")  # 0 samples are shown as 0


def test_the_limits_are_in_a_row_counts():
    health = _health(failure_limit=1, inconclusive_limit=1, checks=[{"provider": "local", "name": "e", "max": 5}])
    assert evaluate(health, {}, {"e": Reading(6, 1)}, bake_over=False).verdict == "unhealthy"
    assert evaluate(health, {}, {}, bake_over=False).cause == "no-data"


def test_what_history_shows_of_the_values():
    failed = CheckResult(
        name="errors", value=7.123456, samples=12, max=5, min=1, passed=False, outcome="failed", in_a_row=3
    )
    passed = CheckResult(name="latency", value=0.5, samples=2, max=0.75, passed=True, outcome="passed")
    low = CheckResult(name="rps", value=3, samples=1, min=10, passed=False, outcome="failed", in_a_row=1)
    few = CheckResult(name="a", value=1, samples=1, min_samples=4, max=2, passed=False, outcome="inconclusive")
    none = CheckResult(name="b", samples=None, max=2, passed=False, outcome="inconclusive", in_a_row=2)
    zero = CheckResult(name="c", samples=0, max=2, passed=False, outcome="inconclusive")
    error = CheckResult(name="d", max=2, passed=False, outcome="inconclusive", error="timeout")
    assert failed.describe() == "errors 7.123 FAILED (max 5 and min 1, 12 samples), 3 in a row"
    assert passed.describe() == "latency 0.5 passed (max 0.75, 2 samples)"
    assert low.describe() == "rps 3 FAILED (min 10, 1 samples)"
    assert few.describe() == "a no data (1 samples, needs 4)"
    assert none.describe() == "b no data (no value), 2 in a row"
    assert zero.describe() == "c no data (0 samples, needs 1)"
    assert error.describe() == "d no data (timeout)"
    assert describe([failed, passed], "failed", 4) == (
        "judge evaluation 4: errors 7.123 FAILED (max 5 and min 1, 12 samples), 3 in a row; "
        "latency 0.5 passed (max 0.75, 2 samples)"
    )
    assert describe([none], "no-data") == "no data: judge: b no data (no value), 2 in a row"
    assert describe([], None, 2) == "judge evaluation 2"
    assert describe([]) == "judge"
    with pytest.raises(ValueError, match="passed must be true exactly when outcome is passed"):
        CheckResult(name="x", passed=True, outcome="failed")


def test_evaluations_and_windows():
    assert due_evaluation(1000, 60, 1000 + 59_999) == 0
    assert due_evaluation(1000, 60, 1000 + 60_000) == 1
    assert due_evaluation(1000, 60, 1000 + 180_000) == 3
    assert due_evaluation(5000, 60, 0) == 0
    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert window_start(start, start + timedelta(hours=1), 60) == start + timedelta(minutes=55)
    assert window_start(start, start + timedelta(hours=1), 600) == start + timedelta(minutes=50)
    assert window_start(start, start + timedelta(minutes=2), 60) == start
    assert verdict_id("r1", "w1", 2, 3, 1234, 5) == "judge:r1:w1:2:3:1234:5"


def test_a_judge_record_as_json():
    result = CheckResult(name="e", value=1, samples=2, max=5, passed=True, outcome="passed")
    record = JudgeRecord(
        "w1",
        attempt=1,
        flight=2,
        started_ms=10,
        evaluation=3,
        at=datetime(2026, 12, 7, 9, 0, 1, tzinfo=UTC),
        results=[result],
        verdict={"type": "flight-healthy", "id": "judge:r1:w1:1:2:10:3"},
    )
    assert record.instance() == (1, 2, 10)
    assert record.to_json() == {
        "evaluation": 3,
        "flight": 2,
        "at": "2026-12-07T09:00:01Z",
        "checks": [
            {
                "name": "e",
                "value": 1.0,
                "samples": 2,
                "max": 5.0,
                "min": None,
                "min_samples": 1,
                "passed": True,
                "outcome": "passed",
                "in_a_row": 1,
                "error": None,
            }
        ],
        "verdict": "flight-healthy",
        "verdict_id": "judge:r1:w1:1:2:10:3",
    }
    assert JudgeRecord("w1", 0, 1, 0).to_json() == {
        "evaluation": 0,
        "flight": 1,
        "at": None,
        "checks": [],
        "verdict": None,
        "verdict_id": None,
    }


def _health_problems(section: dict) -> list:
    raw = {
        "release": "r1",
        "model": "flight",
        "flights": [{"percent": 100}],
        "health": section,
        "workloads": [{"name": "w", "assets": ["a"]}],
    }
    with pytest.raises(PlanError) as caught:
        validate_plan(raw)
    return caught.value.problems


def test_the_health_section_refusals():
    local = {"provider": "local", "name": "c", "max": 1}
    assert _health_problems({"checks": [{"provider": "local", "name": "c"}]}) == [
        ("health.checks[0]", "a check needs a bound: max, min or both")
    ]
    assert _health_problems({"checks": [{"provider": "local", "name": "c", "max": float("inf")}]}) == [
        ("health.checks[0]", "bounds must be finite numbers")
    ]
    assert _health_problems({"checks": [{"provider": "local", "name": "c", "max": 1, "min": 2.5}]}) == [
        ("health.checks[0]", "min 2.5 is above max 1")
    ]
    assert _health_problems({"checks": [local, local]}) == [("health.checks", "duplicate check names: c")]
    assert _health_problems({"checks": [local], "interval": "25h"}) == [
        ("health.interval", "interval must be between 1s and 24h")
    ]
    assert _health_problems({"checks": [local], "interval": 0}) == [
        ("health.interval", "interval must be between 1s and 24h")
    ]
    assert _health_problems({"checks": [local], "ingestion_delay": "61m"}) == [
        ("health.ingestion_delay", "ingestion_delay must be between 0s and 1h")
    ]
    assert _health_problems({"checks": [{"provider": "prometheus", "name": "c", "max": 1}]}) == [
        ("health.checks[0]", "provider must be one of: local, azure-monitor-logs, azure-monitor-metrics")
    ]
    metrics = {
        "provider": "azure-monitor-metrics",
        "name": "cpu",
        "max": 90,
        "resource": "vm1",
        "metric": "Percentage CPU",
        "region": "westeurope",
    }
    assert _health_problems({"checks": [metrics]}) == [
        (
            "health.checks[0].resource",
            "resource must be an Azure resource id: /subscriptions/<id>/resourceGroups/<group>/providers/"
            "<namespace>/<type>/<name>",
        )
    ]


def test_the_health_section_defaults_and_derived_values():
    section = Health.model_validate(
        {"checks": [{"provider": "local", "name": "c", "max": 1}], "interval": "24h", "ingestion_delay": "1h"}
    )
    assert (section.interval, section.delay, section.failure_limit, section.inconclusive_limit) == (86400, 3600, 2, 5)
    assert Health.model_validate({"checks": [{"provider": "local", "name": "c", "max": 1}], "interval": 1}).delay == 0
    vm = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
    metrics = Health.model_validate(
        {
            "checks": [
                {"provider": "local", "name": "c", "max": 1},
                {
                    "provider": "azure-monitor-metrics",
                    "name": "cpu",
                    "max": 90,
                    "resource": vm,
                    "metric": "Percentage CPU",
                    "region": "westeurope",
                },
                {
                    "provider": "azure-monitor-metrics",
                    "name": "db",
                    "max": 90,
                    "resource": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Sql/servers/s/databases/d",
                    "metric": "cpu_percent",
                    "region": "westeurope",
                    "metric_namespace": "custom/ns",
                },
            ],
            "ingestion_delay": 0,
        }
    )
    assert metrics.delay == 0
    cpu, db = metrics.checks[1], metrics.checks[2]
    assert (cpu.namespace, cpu.subscription, cpu.aggregation) == ("Microsoft.Compute/virtualMachines", SUB, "Average")
    assert db.namespace == "custom/ns"
    plain = Health.model_validate({"checks": metrics.model_dump()["checks"][:2]})
    assert plain.delay == 180


def test_a_nested_resource_s_metric_namespace_skips_the_names():
    nested = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Sql/servers/s1/databases/d1"
    section = Health.model_validate(
        {
            "checks": [
                {
                    "provider": "azure-monitor-metrics",
                    "name": "db",
                    "max": 90,
                    "resource": nested,
                    "metric": "cpu_percent",
                    "region": "westeurope",
                }
            ]
        }
    )
    assert section.checks[0].namespace == "Microsoft.Sql/servers/databases"
    assert section.checks[0].subscription == SUB
