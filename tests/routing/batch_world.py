"""A staged release over the local Resource Manager for budgeted routing (tests and `make bench`): route tables
holding many workloads' routes, and load balancers and Traffic Manager profiles of a workload each."""

from __future__ import annotations

import copy

from shared.domain.machine import Decision, SetTraffic
from shared.domain.model import HistoryEntry, Outcome, Release, new_release
from shared.domain.plan import Plan, validate_plan
from tests.fakes import T0
from tests.routing import arm_resources as res
from tests.routing.fake_arm import FakeArm

SOURCE_HOP, TARGET_HOP = "10.0.0.4", "10.1.0.4"


def table_id(table: str) -> str:
    return f"{res.NET}/routeTables/{table}"


def seed_table(arm: FakeArm, table: str, routes: list[str]) -> None:
    doc = res.route_table(table)
    doc["properties"]["routes"] = [
        res._sub(
            table_id(table),
            "routes",
            name,
            {"addressPrefix": f"10.{20 + i // 250}.{i % 250}.0/24", "nextHopType": "VirtualAppliance",
             "nextHopIpAddress": SOURCE_HOP},
            "Microsoft.Network/routeTables/routes",
        )
        for i, name in enumerate(routes)
    ]  # fmt: skip
    arm.seed(doc)


def seed_world(arm: FakeArm, *, tables: int, routes_per_table: int, pools: int = 0, profiles: int = 0) -> list[dict]:
    """Seed the resources; return the plan's workloads (route-table ones first, then pools, then profiles)."""
    workloads = []
    for t in range(tables):
        names = [f"r-{t}-{i}" for i in range(routes_per_table)]
        seed_table(arm, f"rt-{t}", names)
        for name in names:
            routing = res.routing("route-table", route_table=f"rt-{t}", route=name)
            workloads.append({"name": name, "assets": [name], "routing": routing})
    for p in range(pools):
        arm.seed(res.load_balancer(f"lb-{p}"))
        routing = res.routing("load-balancer", load_balancer=f"lb-{p}")
        workloads.append({"name": f"lb-{p}", "assets": [f"lb-{p}"], "routing": routing})
    for p in range(profiles):
        arm.seed(res.traffic_manager(f"tm-{p}"))
        workloads.append(
            {"name": f"tm-{p}", "assets": [f"tm-{p}"], "routing": res.routing("traffic-manager", profile=f"tm-{p}")}
        )
    return workloads


def staged_plan(workloads: list[dict], **extra) -> Plan:
    return validate_plan(
        {"release": "wave", "model": "staged", "approvers": ["ana@contoso.com"], "workloads": workloads, **extra}
    )


def promotion(plan: Plan, percent: int = 100) -> tuple[Release, Decision]:
    """The release as applied and a release-level move of every workload to `percent` (the staged promotion)."""
    before = new_release(plan)
    after = copy.copy(before)
    effects = [SetTraffic(w.name, percent, w.routing) for w in plan.workloads]
    entries = [
        HistoryEntry(T0, "e1", "approval", Outcome.APPLIED, "promoted", w.name, "ready", "promoted", percent)
        for w in plan.workloads
    ]
    return before, Decision(after, entries, list(effects))


def hops(arm: FakeArm, table: str) -> dict[str, str]:
    doc = arm.get(table_id(table))
    return {r["name"]: r["properties"]["nextHopIpAddress"] for r in doc["properties"]["routes"]}
