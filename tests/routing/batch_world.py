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


def not_at(arm: FakeArm, plan: Plan, percent: int = 100) -> list[str]:
    """The workloads whose resource, read from the stand-in's own state, is not at `percent` (0 or 100)."""
    wrong, tables = [], {}
    for w in plan.workloads:
        r = w.routing
        if r.provider == "route-table":
            if r.route_table not in tables:
                tables[r.route_table] = hops(arm, r.route_table)
            hop = tables[r.route_table][r.route]
            ok = hop == (r.target_next_hop if percent == 100 else r.source_next_hop)
        elif r.provider == "load-balancer":
            pool = arm.get(f"{res.NET}/loadBalancers/{r.load_balancer}/backendAddressPools/{r.backend_pool}")
            held = [a["properties"]["ipAddress"] for a in pool["properties"]["loadBalancerBackendAddresses"]]
            ok = held == list(r.target_addresses if percent == 100 else r.source_addresses)
        else:  # traffic-manager
            profile = arm.get(f"{res.NET}/trafficManagerProfiles/{r.profile}")
            status = {e["name"]: e["properties"]["endpointStatus"] for e in profile["properties"]["endpoints"]}
            on = r.target_endpoint if percent == 100 else r.source_endpoint
            off = r.source_endpoint if percent == 100 else r.target_endpoint
            ok = status[on] == "Enabled" and status[off] == "Disabled"
        if not ok:
            wrong.append(w.name)
    return wrong
