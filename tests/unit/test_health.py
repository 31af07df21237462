"""The health judge's pure part: the plan's `health` section, one check's outcome, the verdict rules."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.errors import PlanError
from shared.domain.health import CheckResult, Health, Reading, Streak, describe, due_evaluation, evaluate, judge_reading
from shared.domain.plan import validate_plan

WORKSPACE = "00000000-0000-0000-0000-000000000000"
VM = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-payroll/providers/"
    "Microsoft.Compute/virtualMachines/vm-payroll-web-01"
)


def plan(**health) -> dict:
    return {
        "release": "wave-1",
        "model": "flight",
        "flights": [{"percent": 10, "bake": "30s"}, {"percent": 100}],
        "workloads": [{"name": "payroll", "assets": ["vm-1"]}],
        "health": health,
    }


def test_the_contract_example_validates_with_the_region_the_metrics_api_needs():
    p = validate_plan(
        plan(
            interval="1m",
            failure_limit=2,
            inconclusive_limit=5,
            checks=[
                {
                    "name": "error-rate",
                    "provider": "azure-monitor-logs",
                    "workspace": WORKSPACE,
                    "query": "requests | summarize value = 1.0, samples = count()",
                    "max": 1.0,
                    "min_samples": 100,
                },
                {
                    "name": "cpu",
                    "provider": "azure-monitor-metrics",
                    "resource": VM,
                    "metric": "Percentage CPU",
                    "aggregation": "Average",
                    "max": 80,
                    "region": "westeurope",
                },
                {"name": "local-errors", "provider": "local", "max": 1.0},
            ],
        )
    )
    health = p.health_of("payroll")
    assert health is p.health and health is not None
    assert (health.interval, health.failure_limit, health.inconclusive_limit) == (60, 2, 5)
    assert health.checks[1].namespace == "Microsoft.Compute/virtualMachines"
    assert health.checks[2].min_samples == 1


def test_a_workload_overrides_the_release_health():
    raw = plan(checks=[{"name": "a", "provider": "local", "max": 1}])
    raw["workloads"].append(
        {
            "name": "crm",
            "assets": ["vm-2"],
            "health": {"interval": "5s", "checks": [{"name": "b", "provider": "local", "min": 10}]},
        }
    )
    p = validate_plan(raw)
    assert [c.name for c in p.health_of("crm").checks] == ["b"] and p.health_of("crm").interval == 5
    assert [c.name for c in p.health_of("payroll").checks] == ["a"]


def test_every_problem_of_a_health_section_is_named_by_its_path():
    raw = plan(
        interval="0s",
        failure_limit=0,
        inconclusive_limit="x",
        checks=[
            {"name": "Bad Name", "provider": "local", "max": 1},
            {"name": "nobound", "provider": "local"},
            {"name": "inverted", "provider": "local", "min": 5, "max": 1},
            {"name": "kql", "provider": "azure-monitor-logs", "workspace": "nope", "query": ""},
            {
                "name": "cpu",
                "provider": "azure-monitor-metrics",
                "resource": "vm-1",
                "metric": "Percentage CPU",
                "max": 1,
            },
            {"name": "x", "provider": "prometheus", "max": 1},
            {"name": "dup", "provider": "local", "max": 1},
            {"name": "dup", "provider": "local", "max": 2},
        ],
    )
    raw["workloads"][0]["health"] = {"checks": [], "extra": 1}
    with pytest.raises(PlanError) as info:
        validate_plan(raw)
    paths = {path for path, _ in info.value.problems}
    assert {
        "health.interval",
        "health.failure_limit",
        "health.inconclusive_limit",
        "health.checks[0].name",
        "health.checks[1]",
        "health.checks[2]",
        "health.checks[3].workspace",
        "health.checks[3].query",
        "health.checks[4].resource",
        "health.checks[4].region",
        "health.checks[5]",
        "workloads[0].health.checks",
        "workloads[0].health.extra",
    } <= paths, info.value.problems
    reasons = dict(info.value.problems)
    assert "max, min or both" in reasons["health.checks[1]"]
    assert "min 5 is above max 1" in reasons["health.checks[2]"]
    assert "local, azure-monitor-logs, azure-monitor-metrics" in reasons["health.checks[5]"]


def test_duplicate_check_names_are_refused():
    with pytest.raises(PlanError, match="duplicate check names: dup"):
        validate_plan(
            plan(
                checks=[{"name": "dup", "provider": "local", "max": 1}, {"name": "dup", "provider": "local", "max": 2}]
            )
        )


def test_health_needs_flights():
    raw = plan(checks=[{"name": "a", "provider": "local", "max": 1}])
    raw.update(model="single-step", flights=None)
    with pytest.raises(PlanError, match="health judges flights"):
        validate_plan(raw)


LOCAL = Health(
    checks=[{"name": "errors", "provider": "local", "max": 1.0, "min_samples": 10}],
    failure_limit=2,
    inconclusive_limit=3,
)


@pytest.mark.parametrize(
    "reading, outcome",
    [
        (Reading(0.5, 10), "passed"),
        (Reading(1.0, 10), "passed"),
        (Reading(1.01, 10), "failed"),
        (Reading(0.5, 9), "inconclusive"),
        (Reading(0.5, None), "inconclusive"),
        (Reading(None, 100), "inconclusive"),
        (Reading(error="HTTP 429: throttled"), "inconclusive"),
        (Reading(math.nan, 100), "inconclusive"),
        (Reading(math.inf, 100), "inconclusive"),
        (Reading(), "inconclusive"),
        (Reading(0.5, -3), "inconclusive"),
    ],
)
def test_one_checks_outcome(reading, outcome):
    assert judge_reading(LOCAL.checks[0], reading)[0] == outcome


def test_min_bound_fails_below_it():
    check = Health(checks=[{"name": "rps", "provider": "local", "min": 5}]).checks[0]
    assert judge_reading(check, Reading(4.9, 1))[0] == "failed"
    assert judge_reading(check, Reading(5, 1))[0] == "passed"


def test_failure_limit_in_a_row_is_unhealthy_with_the_values():
    first = evaluate(LOCAL, {}, {"errors": Reading(3.5, 400)}, bake_over=False)
    assert first.verdict is None and first.streaks["errors"] == Streak(failed=1)
    second = evaluate(LOCAL, first.streaks, {"errors": Reading(2.25, 380)}, bake_over=False)
    assert (second.verdict, second.cause, second.culprits) == ("unhealthy", "failed", ["errors"])
    text = describe(second.results, second.cause, 2)
    assert text == "judge evaluation 2: errors 2.25 FAILED (max 1, 380 samples), 2 in a row"


def test_inconclusive_limit_in_a_row_is_unhealthy_for_no_data():
    streaks: dict = {}
    verdicts = []
    for _ in range(3):
        result = evaluate(LOCAL, streaks, {"errors": Reading(0.1, 2)}, bake_over=True)
        streaks, verdicts = result.streaks, verdicts + [result.verdict]
    assert verdicts == [None, None, "unhealthy"] and result.cause == "no-data"
    assert describe(result.results, result.cause, 3).startswith(
        "no data: judge evaluation 3: errors no data (2 samples, needs 10), 3 in a row"
    )


def test_healthy_only_after_the_bake_and_with_every_check_passing():
    assert evaluate(LOCAL, {}, {"errors": Reading(0.1, 50)}, bake_over=False).verdict is None
    assert evaluate(LOCAL, {}, {"errors": Reading(0.1, 50)}, bake_over=True).verdict == "healthy"
    assert evaluate(LOCAL, {}, {}, bake_over=True).verdict is None  # a missing reading is no data


def test_a_pass_clears_the_counts_and_no_data_does_not_clear_a_failure():
    assert Streak(failed=1, inconclusive=2).after("passed") == Streak()
    assert Streak(failed=1).after("inconclusive") == Streak(failed=1, inconclusive=1)
    assert Streak(failed=1, inconclusive=2).after("failed") == Streak(failed=2)


def test_evaluations_are_due_every_interval_from_the_start_of_the_flight():
    assert [due_evaluation(1_000, 60, now) for now in (1_000, 60_999, 61_000, 180_999, 181_000)] == [0, 0, 1, 2, 3]


def test_check_results_refuse_a_passed_flag_that_contradicts_the_outcome():
    with pytest.raises(ValueError):
        CheckResult(name="a", passed=True, outcome="failed")


# -- properties --------------------------------------------------------------------------------------
HEALTH = Health(
    checks=[
        {"name": "a", "provider": "local", "max": 1.0, "min_samples": 5},
        {"name": "b", "provider": "local", "min": 2.0, "max": 8.0},
    ],
    failure_limit=2,
    inconclusive_limit=3,
)
readings = st.one_of(
    st.builds(
        Reading,
        value=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=32), st.floats(-1, 10)),
        samples=st.one_of(st.none(), st.integers(-2, 20)),
    ),
    st.builds(Reading, error=st.sampled_from(["HTTP 429: throttled", "timeout", "partial result"])),
    st.just(None),
)  # no reading at all
rounds = st.lists(st.tuples(st.fixed_dictionaries({"a": readings, "b": readings}), st.booleans()), max_size=30)


def _run(sequence):
    streaks: dict = {}
    for raw, bake_over in sequence:
        result = evaluate(HEALTH, streaks, {k: v for k, v in raw.items() if v is not None}, bake_over=bake_over)
        streaks = result.streaks
        yield result


@settings(max_examples=3 * settings.default.max_examples, deadline=None)
@given(rounds)
def test_no_evaluation_with_an_inconclusive_check_is_healthy(sequence):
    for result in _run(sequence):
        if result.inconclusive:
            assert result.verdict != "healthy"
        if result.verdict == "healthy":
            assert all(
                r.passed and r.samples is not None and r.samples >= (5 if r.name == "a" else 1) for r in result.results
            )


@settings(max_examples=3 * settings.default.max_examples, deadline=None)
@given(rounds)
def test_an_unhealthy_verdict_never_comes_from_a_check_that_passed(sequence):
    for result in _run(sequence):
        if result.verdict == "unhealthy":
            by_name = {r.name: r for r in result.results}
            assert result.culprits and all(not by_name[c].passed for c in result.culprits)
            limit = HEALTH.failure_limit if result.cause == "failed" else HEALTH.inconclusive_limit
            assert all(by_name[c].in_a_row >= limit for c in result.culprits)
