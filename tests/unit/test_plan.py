"""Plan validation: every problem named by field path, nothing accepted that cannot run."""

from __future__ import annotations

import pytest

from shared.domain.errors import PlanError
from shared.domain.plan import load_plan_text, parse_duration, validate_plan
from shared.domain.shares import load_balancer_share, pool_composition

SUB = "00000000-0000-0000-0000-000000000000"
CONTRACT_EXAMPLE = """
release: wave-1
model: flight
approval: auto
approvers: [ana@contoso.com]
operators: [ops@contoso.com]
flights:
  - {percent: 10, bake: 30s}
  - {percent: 50, bake: 10m}
  - {percent: 100, bake: 0s}
on_alert: rollback
workloads:
  - name: payroll
    assets: [vm-payroll-web-01, vm-payroll-db-01]
    routing: {provider: local}
"""


def load_yaml(text: str):
    import yaml

    return yaml.safe_load(text)


def problems(doc) -> dict[str, str]:
    with pytest.raises(PlanError) as info:
        validate_plan(doc)
    return dict(info.value.problems)


def base(**kw) -> dict:
    doc = {"release": "r1", "model": "single-step", "workloads": [{"name": "w1", "assets": ["a"]}]}
    doc.update(kw)
    return doc


def test_the_contract_example_is_valid():
    plan = load_plan_text(CONTRACT_EXAMPLE)
    assert plan.flight_percents == [10, 50, 100]
    assert [f.bake for f in plan.flights] == [30, 600, 0]
    assert plan.workloads[0].routing.provider == "local"


def test_json_plans_are_accepted_too():
    assert (
        load_plan_text(
            '{"release": "r1", "model": "staged", "approvers": ["a@b.c"], '
            '"workloads": [{"name": "w1", "assets": ["a"]}]}'
        ).approval
        == "manual"
    )


def test_defaults():
    assert validate_plan(base()).approval == "auto"
    assert validate_plan(base()).on_alert == "rollback"
    assert validate_plan(base()).workloads[0].routing.provider == "local"


def test_every_problem_is_named_with_its_field_path():
    found = problems(
        {
            "release": "Wave_1",
            "model": "flight",
            "approval": "manual",
            "flights": [{"percent": 50, "bake": "1x"}, {"percent": 40}],
            "workloads": [
                {"name": "payroll", "assets": ["a", "a"]},
                {"name": "hr", "assets": ["b"], "routing": {"provider": "magic"}, "x": 1},
            ],
        }
    )
    assert "release" in found and "must match" in found["release"]
    assert "not a duration" in found["flights[0].bake"]
    assert "duplicate assets" in found["workloads[0].assets"]
    assert "unknown provider 'magic'" in found["workloads[1].routing"]
    assert found["workloads[1].x"] == "unknown field"
    assert "at least one approver" in found["approvers"]


@pytest.mark.parametrize(
    "flights,message",
    [
        ([{"percent": 50}, {"percent": 10}, {"percent": 100}], "strictly increasing"),
        ([{"percent": 10}, {"percent": 50}], "last flight must be 100%"),
        ([], "at least one flight"),
    ],
)
def test_flights_must_increase_and_end_at_100(flights, message):
    assert message in problems(base(model="flight", flights=flights))["flights"]


def all_problems(doc) -> list[tuple[str, str]]:
    with pytest.raises(PlanError) as info:
        validate_plan(doc)
    return list(info.value.problems)


LB_ONE_AND_ONE = {
    "provider": "load-balancer",
    "subscription": SUB,
    "resource_group": "rg",
    "load_balancer": "lb",
    "backend_pool": "be",
    "source_addresses": ["10.0.1.4"],
    "target_addresses": ["10.1.1.4"],
}


def test_flights_out_of_order_are_named_as_such_even_when_a_percent_is_invalid_too():
    found = all_problems(base(model="flight", flights=[{"percent": 0}, {"percent": 60}, {"percent": 50}]))
    assert ("flights[0].percent", "Input should be greater than or equal to 1") in found
    assert ("flights", "percents must be strictly increasing, got [0, 60, 50]") in found
    assert ("flights", "the last flight must be 100%, got 50%") in found
    assert len(found) == 3


@pytest.mark.parametrize("routing", [None, LB_ONE_AND_ONE], ids=["local", "load-balancer"])
def test_flights_out_of_order_are_not_also_called_two_flights_on_one_share(routing):
    workload = {"name": "w", "assets": ["a"], **({"routing": routing} if routing else {})}
    found = all_problems(
        base(model="flight", flights=[{"percent": 50}, {"percent": 10}, {"percent": 100}], workloads=[workload])
    )
    assert ("flights", "percents must be strictly increasing, got [50, 10, 100]") in found
    assert not [reason for _, reason in found if "same share" in reason], found


def test_increasing_flights_a_pool_realises_as_one_share_are_named():
    found = all_problems(
        base(
            model="flight",
            flights=[{"percent": 40}, {"percent": 60}, {"percent": 100}],
            workloads=[{"name": "w", "assets": ["a"], "routing": LB_ONE_AND_ONE}],
        )
    )
    assert found == [
        (
            "workloads[0].routing",
            "load-balancer realises flights [40, 60, 100] as [50, 50, 100]: two flights would route the same "
            "share; add addresses or change the flights",
        )
    ]


def test_flights_belong_to_the_flight_model_only():
    assert "only for the flight model" in problems(base(flights=[{"percent": 100}]))["flights"]
    assert "needs flights" in problems(base(model="flight"))["flights"]


def test_duplicate_workloads_and_names_unfit_for_table_keys():
    found = problems(base(workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w1", "assets": ["b"]}]))
    assert "duplicate workload names: w1" in found["workloads"]
    for bad in ("a/b", "a\\b", "a#b", "a?b", "a\tb", "-lead", "x" * 64, ""):
        assert "workloads[0].name" in problems(base(workloads=[{"name": bad, "assets": ["a"]}]))


def test_assets_reject_control_characters():
    assert "workloads[0].assets" in problems(base(workloads=[{"name": "w", "assets": ["bad\x00asset"]}]))


def test_providers_that_cannot_realise_the_flights_are_refused():
    route_table = {
        "provider": "route-table",
        "subscription": SUB,
        "resource_group": "rg",
        "route_table": "rt",
        "route": "default",
        "source_next_hop": "10.0.0.4",
        "target_next_hop": "10.1.0.4",
    }
    found = problems(
        base(
            model="flight",
            flights=[{"percent": 10}, {"percent": 100}],
            workloads=[{"name": "w", "assets": ["a"], "routing": route_table}],
        )
    )
    assert "can only realise 0% or 100%" in found["workloads[0].routing.provider"]
    # the same provider is fine for single-step
    assert validate_plan(base(workloads=[{"name": "w", "assets": ["a"], "routing": route_table}]))


def test_load_balancer_flights_need_enough_addresses():
    lb = {
        "provider": "load-balancer",
        "subscription": SUB,
        "resource_group": "rg",
        "load_balancer": "lb",
        "backend_pool": "be",
        "source_addresses": ["10.0.1.4", "10.0.1.5"],
        "target_addresses": ["10.1.1.4"],
    }
    found = problems(
        base(
            model="flight",
            flights=[{"percent": 10}, {"percent": 100}],
            workloads=[{"name": "w", "assets": ["a"], "routing": lb}],
        )
    )
    assert "cannot realise 10% (nearest 0%)" in found["workloads[0].routing"]
    ok = validate_plan(
        base(
            model="flight",
            flights=[{"percent": 30}, {"percent": 100}],
            workloads=[{"name": "w", "assets": ["a"], "routing": lb}],
        )
    )
    assert ok


def test_load_balancer_nearest_ratios():
    assert pool_composition(0, 4, 4) == (4, 0)
    assert pool_composition(100, 4, 4) == (0, 4)
    assert pool_composition(50, 4, 4) == (4, 4)  # ties prefer the larger pool
    assert pool_composition(25, 4, 4) == (3, 1)
    assert load_balancer_share(10, 9, 1) == 10
    assert load_balancer_share(33, 2, 2) == 33


def test_provider_fields_are_checked():
    found = problems(
        base(
            workloads=[
                {
                    "name": "w",
                    "assets": ["a"],
                    "routing": {
                        "provider": "load-balancer",
                        "subscription": "nope",
                        "resource_group": "rg",
                        "load_balancer": "lb",
                        "backend_pool": "be",
                        "source_addresses": ["300.1.1.1"],
                        "target_addresses": ["10.0.0.1"],
                    },
                }
            ]
        )
    )
    assert "workloads[0].routing.subscription" in found
    assert "workloads[0].routing.source_addresses" in found


def test_durations():
    assert [parse_duration(v) for v in ("0s", "30s", "10m", "1h30m", "2d", 45)] == [0, 30, 600, 5400, 172800, 45]
    for bad in ("", "10", "1x", "-5s", True, "8d"):
        with pytest.raises(ValueError):
            parse_duration(bad)


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1.0e+400"])
def test_an_endless_finishing_duration_is_a_named_problem_not_a_crash(value):
    # YAML reads .inf and 1e400 as float infinity, .nan as NaN
    found = problems(
        load_yaml(f"release: r1\nmodel: single-step\nhypercare: {value}\nworkloads: [{{name: w1, assets: [a]}}]")
    )
    assert "is not a duration" in found["hypercare"]


def test_not_a_mapping_and_not_yaml():
    with pytest.raises(PlanError, match="mapping"):
        validate_plan(["a"])
    with pytest.raises(PlanError, match="not valid YAML"):
        load_plan_text("release: [unclosed")


def test_fingerprint_ignores_people_only_when_asked():
    a = validate_plan(base(approvers=["x@y.z"]))
    b = validate_plan(base(approvers=["q@y.z"]))
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint(without_people=True) == b.fingerprint(without_people=True)


def test_a_wave_is_a_name_like_a_releases():
    assert validate_plan(base(wave="dc-exit-2")).wave == "dc-exit-2"
    assert validate_plan(base()).wave is None
    assert "wave" in problems(base(wave="Wave 2"))
    assert "wave" in problems(base(wave=""))
