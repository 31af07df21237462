"""Budgeted routing (contract §15, architecture §24) against the local Resource Manager, which enforces Azure's
write bucket: a release-level move coalesces a route table's routes into one PUT, paces its writes within the
budget, waits out a 429 instead of failing, and a move cut short is finished by the redelivery."""

from __future__ import annotations

import json
import re
import time

import pytest

from shared.adapters.routing import router_factory
from shared.application.batch_routing import Budget
from shared.application.effects import Ports, carry_out
from shared.domain.budget import move_calls
from shared.domain.errors import RoutingError
from shared.domain.plan import Budgets
from tests.fakes import FakeClock
from tests.routing import batch_world as bw
from tests.routing.fake_arm import ArmBudget


class NoScheduler:
    def schedule(self, event, due) -> None:  # a routing batch schedules nothing
        raise AssertionError("nothing is scheduled here")


def ports(settings, budget: Budget) -> Ports:
    return Ports(
        router_factory(lambda: None, settings), NoScheduler(), None, None, FakeClock(), budget=lambda s, b: budget
    )  # type: ignore[arg-type]


def puts(arm, part: str) -> list[str]:
    return [r.path for r in arm.log if r.method == "PUT" and part in r.path.lower() and r.status < 300]


def test_the_stand_in_refuses_a_write_beyond_the_bucket_with_429_and_retry_after(arm):
    now = [0.0]
    arm.budget = ArmBudget(writes_per_s=0.5, write_burst=2, clock=lambda: now[0])
    bw.seed_table(arm, "rt-0", ["a"])
    path = bw.table_id("rt-0") + "/routes/a"
    auth = {"authorization": "Bearer t"}
    body = {"properties": {"nextHopType": "VirtualAppliance", "nextHopIpAddress": bw.TARGET_HOP}}
    assert [arm.handle("PUT", path, auth, body)[0] for _ in range(2)] == [201, 201]
    status, headers, refusal = arm.handle("PUT", path, auth, {"properties": {"nextHopIpAddress": "10.9.9.9"}})
    assert status == 429 and headers["Retry-After"] == "2"  # half a token a second: 2 s until the next one
    assert refusal["error"]["code"] == "SubscriptionRequestsThrottled"
    assert bw.hops(arm, "rt-0")["a"] == bw.TARGET_HOP, "a refused write changes nothing"
    assert arm.handle("GET", path, auth, None)[0] == 200, "reads have a bucket of their own"
    assert arm.handle("PUT", path, {"authorization": "Bearer other"}, body)[0] == 201, "and each principal"
    now[0] = 2.0
    assert arm.handle("PUT", path, auth, body)[0] == 201 and arm.throttled == 1


def test_a_release_move_writes_each_route_table_once(arm, settings_arm):
    workloads = bw.seed_world(arm, tables=2, routes_per_table=3, pools=1)
    plan = bw.staged_plan(workloads)
    before, decision = bw.promotion(plan)
    done = carry_out(ports(settings_arm, Budget.of(Budgets())), before, decision)
    said = {e.workload: e.reason for e in done.entries}
    assert "routes/r-0-0: nextHopIpAddress 10.0.0.4 -> 10.1.0.4" in said["r-0-0"], "history names each change"
    said = done.entries[-1].reason
    assert re.search(r"routing of 7 workloads: 3 Azure writes in \d+\.\ds", said), "and how long the move took"
    assert len(puts(arm, "/routetables/")) == 2 and not puts(arm, "/routes/"), "one PUT per table, none per route"
    assert len(puts(arm, "/backendaddresspools/")) == 1
    assert set(bw.hops(arm, "rt-0").values()) == set(bw.hops(arm, "rt-1").values()) == {bw.TARGET_HOP}
    moves = [(w.name, w.routing, 0, 100) for w in plan.workloads]
    reads = [r for r in arm.log if r.method == "GET"]
    assert move_calls(moves, batched=True) == (len(arm.writes()), len(reads)) == (3, 13), (
        "the forecast counts what is sent"
    )

    arm.clear_log()  # the redelivery of the same move: everything is in place, nothing is written
    carry_out(ports(settings_arm, Budget.of(Budgets())), before, decision)
    assert arm.writes() == []


def test_writes_are_paced_within_the_budget_so_azure_does_not_refuse_them(arm, settings_arm):
    # two tokens of slack: a request sent late while Azure's bucket is full loses that refill there (a loaded
    # machine delays threads by hundreds of milliseconds)
    arm.budget = ArmBudget(writes_per_s=5, write_burst=4)
    workloads = bw.seed_world(arm, tables=0, routes_per_table=0, pools=8)
    before, decision = bw.promotion(bw.staged_plan(workloads))
    started = time.monotonic()
    carry_out(ports(settings_arm, Budget.of(Budgets(arm_writes_per_s=5, arm_write_burst=2))), before, decision)
    assert time.monotonic() - started >= (8 - 2) / 5  # the budget's lower bound
    assert arm.throttled == 0 and len(puts(arm, "/backendaddresspools/")) == 8


def test_a_429_the_sdk_did_not_outlast_is_waited_out_never_a_failure(arm, settings_arm):
    workloads = bw.seed_world(arm, tables=1, routes_per_table=2)
    arm.fail("PUT", "/routetables/rt-0", 429, times=6, retry_after="0", code="SubscriptionRequestsThrottled")
    before, decision = bw.promotion(bw.staged_plan(workloads))
    budget = Budget.of(Budgets())
    carry_out(ports(settings_arm, budget), before, decision)
    assert budget.throttles == 1, "the SDK's own retries ran out once; promote waited and wrote again"
    assert set(bw.hops(arm, "rt-0").values()) == {bw.TARGET_HOP}


class Crash(BaseException):
    """The host going away mid-batch: no `except Exception` runs, nothing is put back."""


def test_a_move_cut_short_is_finished_by_the_redelivery_without_writing_anything_twice(arm, settings_arm):
    workloads = bw.seed_world(arm, tables=3, routes_per_table=2)
    before, decision = bw.promotion(bw.staged_plan(workloads))
    budget, spent = Budget.of(Budgets()), []

    def spend(writes: int, reads: int = 0) -> None:
        if spent:
            raise Crash
        spent.append(writes)

    budget.spend = spend  # type: ignore[method-assign]
    with pytest.raises(Crash):
        carry_out(ports(settings_arm, budget), before, decision)
    first = puts(arm, "/routetables/")
    assert len(first) == 1, "one table was written before the crash"

    carry_out(ports(settings_arm, Budget.of(Budgets())), before, decision)  # the message, redelivered
    second = puts(arm, "/routetables/")[1:]
    assert len(second) == 2 and not set(first) & set(second), "each table written once in all"
    assert all(set(bw.hops(arm, f"rt-{t}").values()) == {bw.TARGET_HOP} for t in range(3))


def test_a_failed_unit_puts_the_batch_back(arm, settings_arm):
    workloads = bw.seed_world(arm, tables=2, routes_per_table=2)
    arm.fail_operation("/routetables/rt-1", times=1)
    before, decision = bw.promotion(bw.staged_plan(workloads))
    with pytest.raises(RoutingError, match="rt-1"):
        carry_out(ports(settings_arm, Budget.of(Budgets())), before, decision)
    assert set(bw.hops(arm, "rt-0").values()) == set(bw.hops(arm, "rt-1").values()) == {bw.SOURCE_HOP}
    # rt-0 written and put back, a PUT of the table each time; rt-1's failed operation changed nothing to undo
    assert sorted(p.rsplit("/", 1)[-1] for p in puts(arm, "/routetables/")) == ["rt-0", "rt-0", "rt-1"]
    assert not puts(arm, "/routes/"), "no route written on its own"


def test_promote_plan_ends_with_the_azure_calls_and_their_forecast(tmp_path, capsys):
    from shared.local.cli import main

    routes = [
        {"name": f"r{i}", "assets": ["a"], "routing": bw.res.routing("route-table", route=f"to-{i}")}
        for i in range(300)
    ]
    plan = {"release": "wave", "model": "staged", "approvers": ["ana@contoso.com"], "workloads": routes}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({**plan, "budgets": {"arm_writes_per_s": 1, "arm_write_burst": 1}}))
    assert main(["plan", "--file", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["azure"] == {"writes": 1, "reads": 4, "forecast_s": 0.0}
    alone = [{**w, "routing": {**w["routing"], "route_table": f"rt-{w['name']}"}} for w in routes]
    path.write_text(json.dumps({**plan, "workloads": alone}))
    assert main(["plan", "--file", str(path)]) == 0
    # a table per route: 300 writes; 1,200 reads, 962.5 past 95% of the burst at 95% of 25 a second
    assert capsys.readouterr().out.rstrip().splitlines()[-1] == "azure: {writes: 300, reads: 1200, forecast_s: 40.5}"
