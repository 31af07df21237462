"""make bench, the routing section (issue 23): a staged release of 5,000 workloads moved at once over the local
Resource Manager, which enforces Azure's buckets (writes 200, 10 a second; reads 250, 25 a second) and answers
429 with Retry-After beyond them.

    .venv/bin/python bench/routing.py                       # 5,000 workloads: about 1.5 minutes
    .venv/bin/python bench/routing.py --tables 5 --routes 20 --pools 20 --profiles 20     # a short run

The mix: route tables holding many workloads' routes (written once each, all routes in one PUT), and load
balancers and Traffic Manager profiles of a workload each. The move is the release-level promotion as the
service carries it out (shared/application/effects.carry_out: the live checks, then the budgeted batch). It
reports failed moves (read back from the stand-in's own state), the writes issued against the coalesced
minimum and against one write per route, the 429s Azure answered, and the measured duration against the
budget's lower bound and against `promote plan`'s forecast (shared/domain/budget.calls_ahead).
Prints a table and, last, one JSON line; exits 1 when a target is missed: 0 failed moves, writes at the
coalesced minimum, duration within 10% of the budget's lower bound and of the forecast. Figures of a run are
in docs/routing.md ("Azure's budgets").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TOLERANCE = 0.10


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/routing.py", description=__doc__.splitlines()[0])
    p.add_argument("--tables", type=int, default=45, help="route tables (45)")
    p.add_argument("--routes", type=int, default=100, help="workloads' routes per table (100)")
    p.add_argument("--pools", type=int, default=250, help="load balancers, a workload each (250)")
    p.add_argument("--profiles", type=int, default=250, help="Traffic Manager profiles, a workload each (250)")
    args = p.parse_args(argv)

    from shared.adapters.routing import router_factory
    from shared.application.batch_routing import Budget
    from shared.application.config import load_settings
    from shared.application.effects import Ports, carry_out
    from shared.domain.budget import bucket_seconds, calls_ahead
    from shared.domain.plan.budgets import ARM_READ_BURST, ARM_READS_PER_S
    from tests.fakes import FakeClock
    from tests.routing import batch_world as bw
    from tests.routing.conftest import FakeCredential, arm_settings
    from tests.routing.fake_arm import FakeArm, self_signed_certificate

    tls = self_signed_certificate(Path(tempfile.mkdtemp(prefix="bench-arm-")))
    os.environ["REQUESTS_CA_BUNDLE"] = str(tls[0])
    arm = FakeArm()
    server = arm.serve(*tls)
    try:
        workloads = bw.seed_world(
            arm, tables=args.tables, routes_per_table=args.routes, pools=args.pools, profiles=args.profiles
        )
        plan = bw.staged_plan(workloads)
        ahead = calls_ahead(plan)
        budgets = plan.azure_budgets
        budget = Budget.of(budgets)
        settings = arm_settings(arm, FakeCredential(), base=load_settings({}))
        ports = Ports(router_factory(lambda: None, settings), None, None, None, FakeClock(), budget=lambda s, b: budget)  # type: ignore[arg-type]
        before, decision = bw.promotion(plan)
        for w in plan.workloads[:1] + plan.workloads[-1:]:  # the SDKs imported before the clock starts
            ports.routers(plan.release, w.name, w.routing)
        arm.clear_log()
        started = time.monotonic()
        carry_out(ports, before, decision)
        took = time.monotonic() - started
        failed = bw.not_at(arm, plan)
    finally:
        server.stop()

    writes = len(arm.writes())
    reads = sum(1 for r in arm.log if r.method == "GET" and r.status < 300)
    refused = sum(1 for r in arm.log if r.status == 429)
    refused_by = {m: sum(1 for r in arm.log if r.status == 429 and r.method == m) for m in ("GET", "PUT", "PATCH")}
    polls = sum(1 for r in arm.log if r.method == "GET" and r.status < 300 and "/operations/" in r.path)
    per_route = args.tables * args.routes + args.pools + 2 * args.profiles  # no coalescing: a PUT per route
    lower = max(
        bucket_seconds(ahead.writes, budgets.arm_writes_per_s, budgets.arm_write_burst),
        bucket_seconds(ahead.reads, ARM_READS_PER_S, ARM_READ_BURST),
    )
    figures = {
        "workloads": len(plan.workloads),
        "failed_moves": len(failed),
        "writes": writes,
        "writes_coalesced_minimum": ahead.writes,
        "writes_one_per_route": per_route,
        "reads": reads,
        "reads_forecast": ahead.reads,
        "throttled_429": refused,
        "throttled_by_method": refused_by,
        "operation_polls": polls,
        "budget_waits_s": round(budget.waited, 1),
        "duration_s": round(took, 1),
        "lower_bound_s": round(lower, 1),
        "forecast_s": round(ahead.seconds, 1),
        "vs_lower_bound": round(took / lower, 3) if lower else None,
        "vs_forecast": round(took / ahead.seconds, 3) if ahead.seconds else None,
    }
    print(f"routing: a staged release of {len(plan.workloads)} workloads over the throttling Resource Manager")
    mix = f"{args.tables} route tables x {args.routes} routes, {args.pools} load balancers"
    print(f"  ({mix}, {args.profiles} Traffic Manager profiles)")
    print(f"  failed moves          {len(failed)}")
    print(f"  writes                {writes}  (coalesced minimum {ahead.writes}; a write per route: {per_route})")
    print(f"  reads                 {reads}  (forecast {ahead.reads})")
    print(f"  429s answered         {refused}")
    print(f"  duration              {took:.1f}s  (budget's lower bound {lower:.1f}s; forecast {ahead.seconds:.1f}s)")
    missed = []
    if failed:
        missed.append(f"{len(failed)} moves failed: {', '.join(failed[:5])}")
    if writes != ahead.writes:
        missed.append(f"{writes} writes issued, the coalesced minimum is {ahead.writes}")
    if lower and took > (1 + TOLERANCE) * lower:
        missed.append(f"duration {took:.1f}s is not within 10% of the budget's lower bound {lower:.1f}s")
    if ahead.seconds and abs(took - ahead.seconds) > TOLERANCE * ahead.seconds:
        missed.append(f"duration {took:.1f}s is not within 10% of the forecast {ahead.seconds:.1f}s")
    for reason in missed:
        print(f"MISSED: {reason}")
    print(json.dumps(figures))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
