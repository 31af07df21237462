"""Plan checks on documents that fail validation (shared/domain/plan/validate.py) and amends that add a
workload's health section (shared/domain/plan/amend.py): each named exactly, nothing crashes."""

from __future__ import annotations

import pytest

from shared.domain.errors import PlanError
from shared.domain.plan import validate_plan
from shared.domain.plan.amend import Amendment, amendment

FLIGHT = {"release": "r1", "model": "flight", "workloads": [{"name": "web", "assets": ["a"]}]}


def problems(raw) -> list:
    with pytest.raises(PlanError) as caught:
        validate_plan(raw)
    return caught.value.problems


@pytest.mark.parametrize("flights", [5, 2.5, True, "10%", {"percent": 100}])
def test_flights_that_are_not_a_list_are_named_not_a_crash(flights):
    assert problems({**FLIGHT, "flights": flights}) == [("flights", "Input should be a valid list")]


def test_an_empty_flight_list():
    assert problems({**FLIGHT, "flights": []}) == [("flights", "at least one flight is needed")]


def test_duplicate_assets_are_named_once_beside_another_workload_s_error():
    raw = {
        "release": "r1",
        "model": "single-step",
        "workloads": [{"name": "web", "assets": ["b", "a", "b", "a", "c"]}, {"name": "db", "assets": ["c"], "x": 1}],
    }
    assert problems(raw) == [("workloads[0].assets", "duplicate assets: a, b"), ("workloads[1].x", "unknown field")]


def _plan(db_health: dict | None = None):
    db: dict = {"name": "db", "assets": ["b"]}
    if db_health is not None:
        db["health"] = db_health
    return validate_plan(
        {
            "release": "r1",
            "model": "flight",
            "flights": [{"percent": 100}],
            "workloads": [
                {
                    "name": "web",
                    "assets": ["a"],
                    "health": {"checks": [{"provider": "local", "name": "lat", "max": 1}]},
                },
                db,
            ],
        }
    )


def test_a_workload_gaining_or_losing_a_health_section_is_refused():
    health = {"checks": [{"provider": "local", "name": "errors", "max": 3}]}
    assert amendment(_plan(), _plan(health)) == Amendment(changed=[], refused=["workloads"], details=[])
    assert amendment(_plan(health), _plan()) == Amendment(changed=[], refused=["workloads"], details=[])


def test_an_unchanged_workload_health_beside_a_changed_one_is_not_listed():
    before = _plan({"checks": [{"provider": "local", "name": "errors", "max": 3}]})
    after = _plan({"checks": [{"provider": "local", "name": "errors", "max": 4}]})
    assert amendment(before, after) == Amendment(
        changed=["workloads[db].health.checks[errors].max"],
        refused=[],
        details=["workloads[db].health.checks[errors].max: 3.0 -> 4.0"],
    )
