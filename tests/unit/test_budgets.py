"""Azure's budgets (contract §15): the plan field, the token bucket, the writes a move needs, the forecast."""

from __future__ import annotations

import pytest

from shared.domain.budget import TokenBucket, bucket_seconds, forecast, move_calls, retry_after, write_key
from shared.domain.errors import PlanError
from shared.domain.plan import Budgets, validate_plan

SUB = "00000000-0000-0000-0000-000000000000"


def plan_doc(**extra) -> dict:
    return {
        "release": "r1",
        "model": "staged",
        "approvers": ["ana@contoso.com"],
        "workloads": [{"name": "w1", "assets": ["a"], "routing": {"provider": "local"}}],
        **extra,
    }


def problems(doc) -> dict[str, str]:
    with pytest.raises(PlanError) as info:
        validate_plan(doc)
    return dict(info.value.problems)


def route(table: str, name: str, rg: str = "rg") -> dict:
    return {
        "provider": "route-table",
        "subscription": SUB,
        "resource_group": rg,
        "route_table": table,
        "route": name,
        "source_next_hop": "10.0.0.4",
        "target_next_hop": "10.1.0.4",
    }


def test_budgets_default_to_azures_documented_limits():
    plan = validate_plan(plan_doc())
    assert plan.budgets is None
    assert plan.azure_budgets == Budgets(arm_writes_per_s=10, arm_write_burst=200, logs_queries_per_30s=200)
    given = validate_plan(plan_doc(budgets={"arm_writes_per_s": 2.5}))
    assert given.azure_budgets.arm_writes_per_s == 2.5 and given.azure_budgets.arm_write_burst == 200


@pytest.mark.parametrize(
    ("budgets", "path", "words"),
    [
        ({"arm_writes_per_s": 0}, "budgets.arm_writes_per_s", "must be above 0"),
        ({"arm_write_burst": 10.5}, "budgets.arm_write_burst", "whole number"),
        ({"logs_queries_per_30s": "many"}, "budgets.logs_queries_per_30s", "must be a number"),
        ({"arm_write_burst": True}, "budgets.arm_write_burst", "must be a number"),
        ({"logs_queries_per_30s": 10**9}, "budgets.logs_queries_per_30s", "at most 100000"),
        ({"arm_reads_per_s": 5}, "budgets.arm_reads_per_s", ""),
    ],
)
def test_bad_budgets_are_named(budgets, path, words):
    found = problems(plan_doc(budgets=budgets))
    assert path in found and words in found[path], found


def test_the_bucket_spends_its_burst_then_answers_how_long_until_a_token():
    bucket = TokenBucket.full(10, 3, now=100.0)
    assert [bucket.take(100.0) for _ in range(3)] == [0, 0, 0]
    assert bucket.take(100.0) == pytest.approx(0.1)
    assert bucket.take(100.05) == pytest.approx(0.05)  # half a token came back meanwhile
    assert bucket.take(100.1) == 0
    assert bucket.take(1000.0) == 0 and bucket.tokens == 2  # refilled up to the burst, no more
    assert retry_after(0.05) == 1 and retry_after(2.2) == 3


def test_reserving_spaces_callers_at_the_rate_once_the_burst_is_spent():
    bucket = TokenBucket.full(10, 2, now=0.0)
    waits = [bucket.reserve(0.0) for _ in range(5)]
    assert waits == pytest.approx([0, 0, 0.1, 0.2, 0.3])
    bucket.drain(0.3)  # a 429 from Azure: whatever the bucket thought it had is gone
    assert bucket.reserve(0.3) == pytest.approx(0.1)


def test_tokens_claimed_for_later_are_counted_as_azure_counts_them_then():
    # a unit that must wait 5 s for another bucket sends its 2 writes at 5 s: by then Azure's bucket has been
    # full (2) since 2 s, not 2 + 5 refills; claiming them at 0 s would let the next caller think 2 are left
    bucket = TokenBucket.full(1, 2, now=0.0)
    assert bucket.due(0.0, 2) == 0
    bucket.spend_at(5.0, 2)
    assert bucket.reserve(0.0) == pytest.approx(6.0), "the next token is due a second after the claim"


def test_route_tables_coalesce_in_a_release_move_and_nothing_else_does():
    plan = validate_plan(
        plan_doc(
            workloads=[
                *({"name": f"r{i}", "assets": ["a"], "routing": route(f"t{i % 2}", f"route-{i}")} for i in range(6)),
                {"name": "other", "assets": ["a"], "routing": route("t0", "x", rg="rg2")},
                {"name": "loc", "assets": ["a"], "routing": {"provider": "local"}},
            ]
        )
    )
    moves = [(w.name, w.routing, 0, 100) for w in plan.workloads]
    assert len({write_key(w.routing, w.name) for w in plan.workloads}) == 4  # t0, t1, rg2/t0, the local one
    # three tables: a GET, a PUT and three reads of its operation (two polls and the result) each
    assert move_calls(moves, batched=True) == (3, 12)
    assert move_calls(moves, batched=False) == (7, 28)  # one route at a time
    assert move_calls([(n, r, 100, 100) for n, r, _, _ in moves], batched=True) == (0, 0)  # already there


def test_the_forecast_is_the_slowest_bucket():
    budgets = Budgets()
    assert forecast(190, 237, budgets).seconds == 0  # within 95% of both bursts
    assert forecast(1200, 0, budgets, pace=1).seconds == pytest.approx(100)  # (1200 - 200) / 10
    assert forecast(10, 2750, budgets, pace=1).seconds == pytest.approx(100)  # reads: (2750 - 250) / 25
    assert forecast(1200, 0, Budgets(arm_writes_per_s=50), pace=1).seconds == pytest.approx(20)
    assert forecast(10, 0, budgets, latency_s=0.5, concurrency=2).seconds == pytest.approx(2.5)
    # promote paces itself to 95% of each rate and burst: the forecast is of that pace
    assert forecast(1200, 10, budgets).to_json() == {"writes": 1200, "reads": 10, "forecast_s": 106.3}
    assert bucket_seconds(5, 1, 10) == 0


def tm(profile: str) -> dict:
    return {
        "provider": "traffic-manager",
        "subscription": SUB,
        "resource_group": "rg",
        "profile": profile,
        "source_endpoint": "onprem",
        "target_endpoint": "azure",
    }


def test_promote_plan_counts_the_calls_of_the_moves_still_ahead():
    from dataclasses import replace

    from shared.domain.budget import calls_ahead
    from shared.domain.model import WorkloadState, new_release

    workloads = [{"name": f"r{i}", "assets": ["a"], "routing": route(f"t{i % 2}", f"route-{i}")} for i in range(4)]
    doc = plan_doc(workloads=[*workloads, {"name": "tm", "assets": ["a"], "routing": tm("p")}])
    staged = validate_plan(doc)
    # two tables (a GET, a PUT, its operation's 3 reads each) and the profile's two endpoints (the check of
    # endpoints the plan does not name, a GET, two PATCHes answered at once, a read back)
    assert calls_ahead(staged).to_json() == {"writes": 4, "reads": 11, "forecast_s": 0.0}
    release = new_release(staged)
    done = {n: replace(release.workloads[n], state=WorkloadState.PROMOTED, traffic_percent=100) for n in ("r0", "r2")}
    release = replace(release, workloads={**release.workloads, **done})
    assert calls_ahead(staged, release).writes == 3, "table t0's routes are in place; t1 and the profile remain"
    single = validate_plan({**doc, "model": "single-step"})
    assert calls_ahead(single).writes == 4 + 2, "each workload moves on its own: a PUT per route"
    slow = validate_plan({**doc, "budgets": {"arm_writes_per_s": 0.1, "arm_write_burst": 1}})
    assert calls_ahead(slow).seconds == pytest.approx(3 / 0.095)  # 3 writes past the burst, at 95% of 0.1/s
    assert str(calls_ahead(slow)) == "azure: {writes: 4, reads: 11, forecast_s: 31.6}"  # a burst of 1 stays 1
