"""Texts of shared/domain that other tests read only in part: a judge's inconsistent check as the rejection
names it (health.py), a Front Door resource's name (routing.py), the TTL lines of `promote plan` and the ttl
gate (ttl.py), and a YAML plan that gives a key twice (plan/validate.py), each in full."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain import messages as m
from shared.domain.errors import PlanError
from shared.domain.finishing import Hold
from shared.domain.model import new_release
from shared.domain.plan import load_plan_text, validate_plan
from shared.domain.plan.routing import ROUTING
from shared.domain.routing import resource
from shared.domain.ttl import ttl_hold, ttl_plan_text

SUB = "00000000-0000-0000-0000-000000000001"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_a_check_that_passed_with_a_failed_outcome_is_refused_in_these_words():
    check = {"name": "errors", "passed": True, "outcome": "failed"}
    data = {"release": "r1", "workload": "w1", "flight": 1, "checks": [check]}
    doc = {"specversion": "1.0", "id": "v1", "source": "judge", "type": "flight-unhealthy", "data": data}
    with pytest.raises(m.MessageError) as caught:
        m.parse_message(json.dumps(doc))
    assert str(caught.value) == "data.checks.0: passed must be true exactly when outcome is passed"


def test_a_front_door_routing_names_its_profile():
    section = {
        "provider": "front-door",
        "subscription": SUB,
        "resource_group": "rg-edge",
        "profile": "fd-web",
        "origin_group": "og",
        "source_origin": "old",
        "target_origin": "new",
    }
    assert resource(ROUTING.validate_python(section), "r1", "web") == (
        f"Front Door profile fd-web in rg-edge (subscription {SUB})"
    )


def test_the_ttl_lines_of_promote_plan():
    doc = {"lower_ttl_to": 60, "switch_waits": "until the old TTL has passed since the lowering (gate ttl)"}
    assert ttl_plan_text(doc, after=False) == [
        "  at apply: TTL lowered to 60s; the switch waits until the old TTL has passed since the lowering (gate ttl)"
    ]
    assert ttl_plan_text(doc, after=True) == ["  at finalize: TTL back to its original"]
    assert ttl_plan_text(None, after=True) == ttl_plan_text(None, after=False) == []


def test_a_yaml_plan_giving_a_key_twice_is_refused_naming_both_lines():
    with pytest.raises(PlanError) as caught:
        load_plan_text("release: r1\nmodel: single-step\nrelease: r2\n", filename="plan.yaml")
    assert caught.value.problems == [
        (
            "",
            "plan.yaml is not valid YAML or JSON: while constructing a mapping\n"
            '  in "<unicode string>", line 1, column 1\n'
            "found duplicate key 'release'\n"
            '  in "<unicode string>", line 3, column 1',
        )
    ]


def _dns_release():
    zone = f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/dnsZones/contoso.com"
    routing = {"provider": "dns", "zone": zone, "record": "app", "type": "A", "source": ["10.0.0.1"]}
    routing |= {"target": ["10.1.0.1"], "lower_ttl_to": 60}
    plan = validate_plan(
        {"release": "r1", "model": "single-step", "workloads": [{"name": "w1", "assets": ["a"], "routing": routing}]}
    )
    return new_release(plan, NOW)


def test_the_ttl_gate_in_full_before_the_lowering_while_it_counts_and_after():
    release = _dns_release()
    w = release.workloads["w1"]
    assert ttl_hold(release, w, NOW) == Hold(
        "ttl",
        "ttl: the record's TTL was not lowered to 60s at apply, so resolvers may hold the old value for its old TTL; "
        "the switch waits (promote apply lowers it)",
        {"lower_ttl_to": 60, "until": None},
    )
    waiting = w.evolve(ttl_wait_until=NOW + timedelta(seconds=90))
    assert ttl_hold(release, waiting, NOW + timedelta(seconds=0.5)) == Hold(
        "ttl",
        "ttl: resolvers may hold the record for its old TTL until 2026-12-07T09:01:30Z (90s left; lowered to 60s at "
        "apply)",
        {"lower_ttl_to": 60, "until": "2026-12-07T09:01:30Z", "seconds_left": 90},
    )
    assert ttl_hold(release, waiting, NOW + timedelta(seconds=90)) is None
