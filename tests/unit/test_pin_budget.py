"""Azure's budgets as token buckets and the forecast of a move (shared/domain/budget.py): the bucket's answers
at each step, the calls each provider's move costs, and the forecast `promote plan` prints."""

from __future__ import annotations

import pytest

from shared.domain.budget import (
    Forecast,
    TokenBucket,
    Unit,
    bucket_seconds,
    calls_ahead,
    calls_alone,
    check_reads,
    forecast,
    interleaved,
    move_calls,
    paced_burst,
    retry_after,
    scope_of,
    write_key,
)
from shared.domain.plan import Budgets, validate_plan

SUB = "00000000-0000-0000-0000-000000000001"
AZ = {"subscription": SUB, "resource_group": "rg"}


def _routing(section: dict):
    raw = {"release": "r", "model": "single-step", "workloads": [{"name": "w", "assets": ["a"], "routing": section}]}
    return validate_plan(raw).workloads[0].routing


TM = {"provider": "traffic-manager", **AZ, "profile": "p", "source_endpoint": "s", "target_endpoint": "t"}
LB = {
    "provider": "load-balancer",
    **AZ,
    "load_balancer": "lb",
    "backend_pool": "p",
    "source_addresses": ["10.0.0.1"],
    "target_addresses": ["10.0.1.1"],
}
RT = {
    "provider": "route-table",
    "subscription": SUB.upper(),
    "resource_group": "RG",
    "route_table": "T",
    "route": "x",
    "source_next_hop": "10.0.0.1",
    "target_next_hop": "10.0.0.2",
}
FD = {"provider": "front-door", **AZ, "profile": "p", "origin_group": "g", "source_origin": "a", "target_origin": "b"}


def test_a_token_bucket_step_by_step():
    bucket = TokenBucket.full(2.0, 3, 0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]
    assert bucket.tokens == 0.0
    assert bucket.take(0.5) == 0.0  # refilled one
    assert (bucket.tokens, bucket.at) == (0.0, 0.5)
    assert bucket.due(0.5, 2) == 1.5
    assert bucket.reserve(0.5, 2) == 1.0
    assert (bucket.tokens, bucket.at) == (0.0, 1.5)
    assert bucket.due(1.0) == 2.0  # the bucket's own time is ahead of now
    bucket.drain(10.0)
    assert (bucket.tokens, bucket.at) == (0.0, 10.0)
    assert bucket.take(100.0) == 0.0
    assert bucket.tokens == 2.0  # refilled to the burst, not beyond
    for rate, burst in ((0, 3), (1, 0.5)):
        with pytest.raises(ValueError) as caught:
            TokenBucket.full(rate, burst, 0)
        assert str(caught.value) == (
            f"a token bucket needs a positive rate and a burst of at least 1, got {rate}, {burst}"
        )
    assert TokenBucket.full(0.1, 1, 5.0) == TokenBucket(0.1, 1, 1.0, 5.0)


def test_spend_at_refills_up_to_then_and_no_more():
    bucket = TokenBucket.full(1.0, 5, 0.0)
    bucket.spend_at(0.0, 5)
    bucket.spend_at(2.0, 1)
    assert (bucket.tokens, bucket.at) == (1.0, 2.0)
    bucket.spend_at(1.0, 1)  # a claim for a moment before the bucket's own time counts at its time
    assert (bucket.tokens, bucket.at) == (0.0, 2.0)
    bucket.spend_at(2.0, 3)
    assert bucket.tokens == 0.0


def test_each_provider_s_calls():
    tm, lb, rt, fd, local = (_routing(s) for s in (TM, LB, RT, FD, {"provider": "local"}))
    assert [calls_alone(r, 0, 100) for r in (tm, lb, rt, fd, local)] == [(2, 2), (1, 4), (1, 4), (2, 7), (0, 0)]
    assert [calls_alone(r, 100, 100) for r in (tm, lb, rt, fd, local)] == [(0, 1), (0, 1), (0, 1), (0, 1), (0, 0)]
    assert [check_reads(r) for r in (tm, lb, rt, fd, local)] == [1, 1, 0, 1, 0]
    assert write_key(rt, "w") == ("route-table", SUB, "rg", "t")
    assert write_key(lb, "w") == ("workload", "w")
    assert [scope_of(r) for r in (tm, local)] == [SUB, ""]
    moves = [("a", rt, 0, 100), ("b", rt, 0, 100), ("c", lb, 0, 100), ("d", tm, 0, 100), ("e", local, 0, 100)]
    assert move_calls(moves, batched=True) == (4, 12)
    assert move_calls(moves, batched=False) == (5, 14)
    assert move_calls([("a", lb, 100, 100)], batched=True) == (0, 1)


def test_the_forecast():
    budgets = Budgets()
    assert forecast(400, 1000, budgets) == Forecast(400, 1000, pytest.approx((1000 - 237.5) / 23.75))
    assert forecast(400, 0, budgets).seconds == pytest.approx((400 - 190) / 9.5)
    assert forecast(10, 10, budgets, latency_s=2.0, concurrency=4).seconds == 10.0
    assert forecast(10, 10, budgets, latency_s=2.0, concurrency=0).seconds == 40.0
    assert forecast(210, 0, budgets, pace=1).seconds == 1.0
    shown = Forecast(400, 1000, 32.1052)
    assert str(shown) == "azure: {writes: 400, reads: 1000, forecast_s: 32.1}"
    assert shown.to_json() == {"writes": 400, "reads": 1000, "forecast_s": 32.1}
    assert [retry_after(w) for w in (0.0, 0.2, 1.0, 1.01)] == [1, 1, 1, 2]
    assert (bucket_seconds(300, 10, 200), bucket_seconds(100, 10, 200)) == (10.0, 0.0)
    assert (paced_burst(200), paced_burst(1), paced_burst(10, pace=0.5)) == (190.0, 1.0, 5.0)


def test_a_staged_release_coalesces_one_route_table_s_writes():
    route = {**RT, "subscription": SUB, "resource_group": "rg"}
    plan = validate_plan(
        {
            "release": "r",
            "model": "staged",
            "approvers": ["a"],
            "workloads": [
                {"name": "w1", "assets": ["a"], "routing": route},
                {"name": "w2", "assets": ["b"], "routing": {**route, "route": "y"}},
            ],
        }
    )
    assert calls_ahead(plan) == Forecast(1, 4, 0.0)
    flights = validate_plan(
        {
            "release": "r",
            "model": "flight",
            "flights": [{"percent": 50}, {"percent": 100}],
            "workloads": [{"name": "w1", "assets": ["a"], "routing": TM}],
        }
    )
    assert calls_ahead(flights) == Forecast(3, 4, 0.0)  # at 100% only the source endpoint changes


def test_units_alternate_between_write_and_read_heavy():
    def unit(name: str, writes: int, reads: int) -> Unit:
        return Unit((name,), writes, lambda: {}, reads=reads)

    h1, h2, l1, l2 = unit("h1", 2, 2), unit("h2", 2, 2), unit("l1", 1, 4), unit("l2", 1, 4)
    assert [u.workloads[0] for u in interleaved([h1, h2, l1, l2], Budgets())] == ["h1", "l1", "l2", "h2"]
    assert [u.workloads[0] for u in interleaved([l1, l2], Budgets())] == ["l1", "l2"]
    assert interleaved([], Budgets()) == []
