"""Azure Monitor's query pacing (shared/domain/query_budget.py) and the shares a pool can make
(shared/domain/plan/shares.py), at their bounds: a call at the window's edge, a batch at its size, a tie."""

from __future__ import annotations

import pytest

from shared.domain.plan import validate_plan
from shared.domain.plan.shares import load_balancer_share, pool_composition, realisable_share
from shared.domain.query_budget import QueryWindow, anchor_ms, chunks, paced


def test_paced_keeps_a_margin_and_at_least_one():
    assert paced(200) == 190
    assert paced(1) == 1
    assert paced(0) == 1
    assert paced(10, pace=0.5) == 5


def test_a_sliding_window_counts_calls_in_any_period():
    window = QueryWindow(period=30.0)
    assert [window.take(t, 2) for t in (0.0, 1.0)] == [0.0, 0.0]
    assert window.take(2.0, 2) == 28.0  # the call at 0 leaves the window at 30
    assert window.in_window(2.0) == 2
    assert window.in_window(29.999) == 2
    assert window.in_window(30.0) == 1  # a call exactly one period old no longer counts
    assert window.take(30.0, 2) == 0.0
    assert list(window.sent) == [1.0, 30.0]
    assert window.take(30.5, 2) == 0.5
    assert window.take(31.0 - 1e-6, 2) == pytest.approx(1e-3)  # never 0 while refused


def test_a_retry_after_blocks_every_call_until_it_passed():
    window = QueryWindow()
    window.block(10.0, 5.0)
    assert window.blocked_until == 15.0
    window.block(11.0, 1.0)
    assert window.blocked_until == 15.0  # a shorter block does not shorten it
    window.block(11.0, -3.0)
    assert window.blocked_until == 15.0
    assert window.take(12.0, 100) == 3.0
    assert window.take(15.0, 100) == 0.0
    assert window.in_window(15.0) == 1
    fresh = QueryWindow()
    fresh.block(20.0, -1.0)
    assert fresh.blocked_until == 20.0


def test_chunks():
    assert list(chunks(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert list(chunks(range(4), 2)) == [[0, 1], [2, 3]]
    assert list(chunks([], 3)) == []


def test_anchor_rounds_a_flight_start_up_to_the_interval():
    assert anchor_ms(60_000, 60) == 60_000
    assert anchor_ms(60_001, 60) == 120_000
    assert anchor_ms(0, 60) == 0
    assert anchor_ms(1, 1) == 1000


def test_pool_composition_prefers_the_nearest_then_the_larger_pool_then_more_targets():
    assert pool_composition(0, 3, 2) == (3, 0)
    assert pool_composition(-5, 3, 2) == (3, 0)
    assert pool_composition(100, 3, 2) == (0, 2)
    assert pool_composition(101, 3, 2) == (0, 2)
    assert pool_composition(50, 3, 2) == (2, 2)  # 1:1 and 2:2 are both 50%: the larger pool
    assert pool_composition(25, 1, 1) == (1, 1)  # 0% and 50% are both 25 away: the larger pool
    assert pool_composition(25, 3, 1) == (3, 1)
    assert pool_composition(40, 2, 2) == (2, 1)
    assert pool_composition(1, 2, 2) == (2, 0)  # 0% is nearer 1% than 33%
    assert pool_composition(20, 2, 2) == (2, 1)
    assert load_balancer_share(40, 2, 2) == 33
    assert load_balancer_share(60, 2, 2) == 67
    assert load_balancer_share(50, 3, 2) == 50


def test_realisable_shares_by_provider():
    sub = "00000000-0000-0000-0000-000000000001"

    def routing(section: dict):
        raw = {
            "release": "r",
            "model": "single-step",
            "workloads": [{"name": "w", "assets": ["a"], "routing": section}],
        }
        return validate_plan(raw).workloads[0].routing

    local = routing({"provider": "local"})
    assert [realisable_share(local, p) for p in (0, 37, 100)] == [0, 37, 100]
    table = routing(
        {
            "provider": "route-table",
            "subscription": sub,
            "resource_group": "rg",
            "route_table": "t",
            "route": "r",
            "source_next_hop": "10.0.0.1",
            "target_next_hop": "10.0.0.2",
        }
    )
    assert [realisable_share(table, p) for p in (0, 1, 99, 100)] == [0, None, None, 100]
    gateway = {
        "provider": "application-gateway",
        "subscription": sub,
        "resource_group": "rg",
        "application_gateway": "g",
        "rule": "r",
        "source_pool": "s",
        "target_pool": "t",
    }
    assert realisable_share(routing(gateway), 50) is None
    pooled = routing({**gateway, "flight_pool": "f", "source_addresses": ["a.b"], "target_addresses": ["c.d", "e.f"]})
    assert [realisable_share(pooled, p) for p in (0, 50, 60, 100)] == [0, 50, 67, 100]
    balancer = routing(
        {
            "provider": "load-balancer",
            "subscription": sub,
            "resource_group": "rg",
            "load_balancer": "lb",
            "backend_pool": "p",
            "source_addresses": ["10.0.0.1", "10.0.0.2"],
            "target_addresses": ["10.0.1.1"],
        }
    )
    assert [realisable_share(balancer, p) for p in (10, 40, 70, 100)] == [0, 33, 50, 100]
