"""validate_plan on hostile or half-valid documents (shared/domain/plan/validate.py): the rules that span fields
are checked on the raw plan too, so every problem is named, whatever else is wrong, and nothing crashes."""

from __future__ import annotations

import pytest

from shared.domain.errors import PlanError
from shared.domain.plan import validate_plan

SUB = "00000000-0000-0000-0000-000000000001"
LB = {
    "provider": "load-balancer",
    "subscription": SUB,
    "resource_group": "rg",
    "load_balancer": "lb",
    "backend_pool": "pool",
    "source_addresses": ["10.0.0.1"],
    "target_addresses": ["10.0.1.1"],
}
BASE = {"release": "r1", "model": "single-step", "workloads": [{"name": "web", "assets": ["a"]}]}
NAME = "must match ^[a-z0-9][a-z0-9-]{0,62}$ (lowercase letters, digits and '-', at most 63)"


def problems(raw) -> list:
    with pytest.raises(PlanError) as caught:
        validate_plan(raw)
    return caught.value.problems


def _flight(percents: list, **fields) -> dict:
    return {
        **BASE,
        "model": "flight",
        "flights": [{"percent": p} for p in percents],
        "workloads": [{"name": "web", "assets": ["a"], "routing": LB}],
        **fields,
    }


def _nearest(percent: int, nearest: int, index: int = 0) -> tuple[str, str]:
    return (
        f"workloads[{index}].routing",
        f"load-balancer with 1 source and 1 target addresses cannot realise {percent}% (nearest {nearest}%); "
        "add addresses or change the flights",
    )


def test_union_branch_labels_are_not_field_names():
    assert problems({**BASE, "approval": "sometimes"}) == [
        ("approval", "Input should be 'auto' or 'manual'"),
        ("approval.Approval", "Input should be a valid dictionary or instance of Approval"),
    ]


def test_a_check_without_a_provider():
    raw = {**BASE, "model": "flight", "flights": [{"percent": 100}], "health": {"checks": [{"name": "c", "max": 1}]}}
    assert problems(raw) == [
        ("health.checks[0]", "provider must be one of: local, azure-monitor-logs, azure-monitor-metrics")
    ]


def test_an_approval_section_without_a_mode_is_manual():
    assert problems({**BASE, "approval": {"quorum": 1}}) == [
        ("approval.quorum", "a quorum of 1 needs that many approvers in `approvers`"),
        ("approvers", "manual approval needs at least one approver"),
    ]


def test_no_workloads_at_all():
    assert problems({"release": "r1", "model": "single-step"}) == [("workloads", "required")]
    assert problems({"release": "r1", "model": "flight", "flights": [{"percent": 100}]}) == [("workloads", "required")]
    assert problems({"release": "r1", "model": "flight", "flights": [{"percent": 100}], "workloads": ["junk"]}) == [
        ("workloads[0]", "Input should be a valid dictionary or instance of Workload")
    ]
    assert problems({**BASE, "model": "flight", "flights": [5, {"percent": 100}]}) == [
        ("flights[0]", "Input should be a valid dictionary or instance of Flight")
    ]


def test_shares_are_checked_for_the_percents_the_plan_holds():
    raw = _flight([10, 100])
    raw["flights"][0]["percent"] = 10.0  # a whole float is a percent
    assert problems(raw) == [_nearest(10, 0)]


def test_shares_are_checked_for_the_flight_model_only():
    assert problems({**_flight([10, 100]), "model": "single-step"}) == [
        ("flights", "flights are only for the flight model, not single-step")
    ]


def test_every_workload_s_share_problems_are_named():
    raw = _flight([10, 100], on_deadline="rollback")
    raw["workloads"] = [{"name": n, "assets": [n], "routing": LB} for n in ("a", "b")]
    raw["after"] = ["r1"]
    assert problems(raw) == [
        ("after", "a release cannot wait for itself"),
        _nearest(10, 0, 0),
        _nearest(10, 0, 1),
    ]


def test_a_share_that_would_be_everyone_before_the_last_flight():
    assert problems(_flight([90, 100])) == [
        _nearest(90, 100),
        (
            "workloads[0].routing",
            "load-balancer realises flights [90, 100] as [100, 100]: two flights would route the same share; add "
            "addresses or change the flights",
        ),
    ]


def test_shares_of_a_plan_that_failed_for_another_reason_use_its_valid_percents():
    assert problems(_flight([1, 100], wave="W")) == [("wave", f"'W' {NAME}"), _nearest(1, 0)]
    assert problems(_flight([90, 101])) == [
        ("flights[1].percent", "Input should be less than or equal to 100"),
        ("flights", "the last flight must be 100%, got 101%"),
    ]
