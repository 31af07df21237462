"""Amending a running release's plan (shared/domain/plan/amend.py): which changes are allowed, which refused, and
the exact history entry an allowed one leaves."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.domain.plan import validate_plan
from shared.domain.plan.amend import Amendment, amended, amendment

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _plan(**fields):
    raw = {
        "release": "r1",
        "model": "flight",
        "flights": [{"percent": 100}],
        "approvers": ["ana"],
        "health": {"checks": [{"provider": "local", "name": "errors", "max": 5}]},
        "workloads": [
            {"name": "web", "assets": ["a"], "health": {"checks": [{"provider": "local", "name": "lat", "max": 1}]}},
            {"name": "db", "assets": ["b"]},
        ],
        **fields,
    }
    return validate_plan(raw)


def test_nothing_changed():
    assert amendment(_plan(), _plan()) == Amendment([], [], [])


def test_safe_fields_and_thresholds_are_listed_old_to_new():
    new = _plan(
        approvers=["ana", "bo"],
        deadlines={"testing": "1h"},
        health={
            "failure_limit": 3,
            "checks": [{"provider": "local", "name": "errors", "max": 7, "min": 1, "min_samples": 2}],
        },
        workloads=[
            {"name": "web", "assets": ["a"], "health": {"checks": [{"provider": "local", "name": "lat", "max": 2}]}},
            {"name": "db", "assets": ["b"]},
        ],
    )
    change = amendment(_plan(), new)
    assert change == Amendment(
        changed=[
            "approvers",
            "deadlines",
            "health.failure_limit",
            "health.checks[errors].max",
            "health.checks[errors].min",
            "health.checks[errors].min_samples",
            "workloads[web].health.checks[lat].max",
        ],
        refused=[],
        details=[
            'approvers: ["ana"] -> ["ana","bo"]',
            'deadlines: null -> {"approval":null,"replicating":null,"testing":3600,"verdict":null}',
            "health.failure_limit: 2 -> 3",
            "health.checks[errors].max: 5.0 -> 7.0",
            "health.checks[errors].min: null -> 1.0",
            "health.checks[errors].min_samples: 1 -> 2",
            "workloads[web].health.checks[lat].max: 1.0 -> 2.0",
        ],
    )
    entry = amended(new, change, NOW)
    assert (entry.at, entry.type, entry.outcome, entry.source, entry.workload) == (
        NOW,
        "plan-amended",
        "applied",
        "promote apply",
        None,
    )
    assert (entry.from_state, entry.to_state, entry.traffic_percent) == (None, None, None)
    assert entry.event_id == f"apply:{new.fingerprint()[:16]}"
    assert entry.reason == "plan amended: " + "; ".join(change.details)


def test_other_changes_are_refused_by_field():
    new = _plan(
        on_alert="pause",
        health={"checks": [{"provider": "local", "name": "other", "max": 5}]},
        workloads=[{"name": "web", "assets": ["a", "c"]}, {"name": "db", "assets": ["b"]}],
    )
    assert amendment(_plan(), new) == Amendment([], ["health", "on_alert", "workloads"], [])
    check_added = _plan(
        workloads=[
            {"name": "web", "assets": ["a"]},
            {"name": "db", "assets": ["b"], "health": {"checks": [{"provider": "local", "name": "x", "max": 1}]}},
        ]
    )
    assert amendment(_plan(), check_added) == Amendment([], ["workloads"], [])
    no_health = validate_plan(
        {
            "release": "r1",
            "model": "flight",
            "flights": [{"percent": 100}],
            "approvers": ["ana"],
            "workloads": [{"name": "web", "assets": ["a"]}, {"name": "db", "assets": ["b"]}],
        }
    )
    assert amendment(_plan(), no_health).refused == ["health", "workloads"]


def test_long_values_are_cut_in_the_details():
    many = [f"approver-{i:03}@contoso.com" for i in range(20)]
    change = amendment(_plan(), _plan(approvers=many))
    [detail] = change.details
    old, new = detail.removeprefix("approvers: ").split(" -> ")
    assert old == '["ana"]'
    assert len(new) == 200
    assert new.endswith("...")
    assert new[:197] == '["' + '","'.join(many)[:195]


def test_a_value_of_exactly_200_characters_is_shown_whole():
    # ["x...x"] is 4 characters around the name: a 196-character approver makes 200
    change = amendment(_plan(), _plan(approvers=["a" * 196]))
    assert change.details == [f'approvers: ["ana"] -> ["{"a" * 196}"]']
    change = amendment(_plan(), _plan(approvers=["a" * 197]))  # 201 characters: cut to 197 and "..."
    assert change.details == ['approvers: ["ana"] -> ["' + "a" * 195 + "..."]


def test_a_workload_changed_beside_its_health_is_refused():
    moved = _plan(
        workloads=[
            {"name": "web", "assets": ["a"], "health": {"checks": [{"provider": "local", "name": "lat", "max": 1}]}},
            {"name": "db", "assets": ["b", "c"]},
        ]
    )
    assert amendment(_plan(), moved) == Amendment([], ["workloads"], [])
