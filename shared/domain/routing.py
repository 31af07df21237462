"""What each routing provider changes for a share, as data: `promote plan`, `promote routing verify` and drift.

A provider's state is a few named properties of one resource (`settings`); a change is one property going
from one value to another (`Change`). The providers write exactly these properties and describe what they
wrote with the same words, so the plan shown before a release and the history recorded during it match.
Pure: the live checks that use it are in shared/application/drift.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.domain import edge
from shared.domain.model import Release
from shared.domain.plan import (
    ApplicationGatewayRouting,
    AzureFirewallRouting,
    DnsRouting,
    FrontDoorRouting,
    LoadBalancerRouting,
    LocalRouting,
    Plan,
    PrivateDnsRouting,
    RevokeAccess,
    RouteTableRouting,
    Routing,
    TrafficManagerRouting,
)
from shared.domain.plan.shares import pool_addresses, pool_composition, realisable_share
from shared.domain.ttl import ttl_plan, ttl_plan_text

DRIFT_TYPE = "drift-check"


@dataclass(frozen=True)
class Change:
    """One property of one resource, from one value to another."""

    resource: str
    property: str
    before: str
    after: str

    def to_json(self) -> dict[str, str]:
        return {"resource": self.resource, "property": self.property, "from": self.before, "to": self.after}

    def __str__(self) -> str:
        return f"{self.resource}: {self.property} {self.before} -> {self.after}"


# -- resources and their properties ------------------------------------------------------------
Pool = LoadBalancerRouting | ApplicationGatewayRouting  # settings whose share is a pool's membership
Weighted = TrafficManagerRouting | FrontDoorRouting  # settings whose share is two members' weights


def azure_resource(kind: str, name: str, resource_group: str, subscription: str) -> str:
    return f"{kind} {name} in {resource_group} (subscription {subscription})"


def _kind_and_name(routing: Routing) -> tuple[str, str]:
    if isinstance(routing, TrafficManagerRouting):
        return "Traffic Manager profile", routing.profile
    if isinstance(routing, LoadBalancerRouting):
        return "load balancer", routing.load_balancer
    if isinstance(routing, ApplicationGatewayRouting):
        return "application gateway", routing.application_gateway
    if isinstance(routing, RouteTableRouting):
        return "route table", routing.route_table
    if isinstance(routing, FrontDoorRouting):
        return "Front Door profile", routing.profile
    if isinstance(routing, DnsRouting | PrivateDnsRouting | AzureFirewallRouting):
        return edge.kind_and_name(routing)
    raise KeyError(routing.provider)


def resource(routing: Routing, release: str = "", workload: str = "") -> str:
    """The resource a workload's routing changes, named the way errors and history name it."""
    if isinstance(routing, LocalRouting):
        return f"local routing record {release}/{workload}"
    kind, name = _kind_and_name(routing)
    return azure_resource(kind, name, routing.resource_group, routing.subscription)


def lb_members(routing: Pool, percent: int) -> list[str]:
    """The plan's addresses a load balancer pool holds at `percent`: the first n sources and m targets."""
    source_addresses, target_addresses = pool_addresses(routing)
    sources, targets = pool_composition(percent, len(source_addresses), len(target_addresses))
    return source_addresses[:sources] + target_addresses[:targets]


def lb_value(routing: Pool, members: set[str] | list[str], foreign: list[str] | tuple[str, ...] = ()) -> str:
    """The pool's plan-owned addresses in plan order, the members the plan does not name, and the true share
    they make: every member of a pool receives flows, so foreign members count."""
    source_addresses, target_addresses = pool_addresses(routing)
    listed = [a for a in source_addresses + target_addresses if a in set(members)]
    targets = sum(1 for a in listed if a in target_addresses)
    total = len(listed) + len(foreign)
    share = f"{round(100 * targets / total)}% target" if total else "no member"
    others = f" + not in the plan: {', '.join(foreign)}" if foreign else ""
    return f"{', '.join(listed) or '(none)'}{others} ({share})"


def lb_drain_property(routing: LoadBalancerRouting) -> str:
    return f"backendAddressPools/{routing.backend_pool}: drainPeriodInSeconds"


def true_share(targets: int, total: int) -> int | None:
    """The share of flows/requests/queries `targets` of `total` equal members (or weights) get; None if none."""
    return round(100 * targets / total) if total else None


def foreign_refusal(what: str, kind: str, foreign: list[str], percent: int, achieved: int | None) -> str:
    """Why a move to `percent` is refused: members the plan does not name would make the true share differ."""
    return (
        f"{what}: refused before any change: {percent}% would really be {achieved if achieved is not None else 0}% "
        f"of the traffic, because {kind} the plan does not name also receive it: {', '.join(foreign)}; "
        "remove or disable them, or name them in the plan"
    )


def tm_endpoints(percent: int) -> dict[str, tuple[bool, int | None]]:
    """role -> (enabled, weight). Between 0% and 100%: weights 100-p and p. At 0% and 100% the endpoint with
    no users is disabled and the other only enabled: alone, any weight carries every user (None: kept)."""
    if percent <= 0:
        return {"source": (True, None), "target": (False, None)}
    if percent >= 100:
        return {"source": (False, None), "target": (True, None)}
    return {"source": (True, 100 - percent), "target": (True, percent)}


def tm_wanted(percent: int, live: Mapping[str, tuple[bool, int | None]]) -> dict[str, tuple[bool, int | None]]:
    """tm_endpoints(percent), with a kept weight filled in from `live` where the endpoint stays enabled."""
    wanted = tm_endpoints(percent)
    return {
        role: (on, live[role][1] if on and weight is None and live[role][0] else weight)
        for role, (on, weight) in wanted.items()
    }


def tm_value(enabled: bool, weight: int | None) -> str:
    if not enabled:
        return "Disabled"
    return "Enabled" if weight is None else f"Enabled, weight {weight}"


def tm_share(source: tuple[bool, int], target: tuple[bool, int]) -> int | None:
    """The share two live endpoints give the target, or None when both are disabled."""
    (s_on, s_weight), (t_on, t_weight) = source, target
    if not t_on:
        return None if not s_on else 0
    if not s_on:
        return 100
    return round(100 * t_weight / (s_weight + t_weight))


def settings(routing: Routing, percent: int, before: int | None = None) -> dict[str, str]:
    """property -> value that realise `percent` (plans are checked at apply: the share is realisable).

    `before`: the share it moves from, for values a move keeps (a Traffic Manager weight).
    """
    if isinstance(routing, LocalRouting):
        return {"traffic_percent": str(percent)}
    if isinstance(routing, LoadBalancerRouting):
        members = f"backendAddressPools/{routing.backend_pool}: loadBalancerBackendAddresses"
        drain = {} if routing.drain_period is None else {lb_drain_property(routing): str(routing.drain_period)}
        return {members: lb_value(routing, lb_members(routing, percent)), **drain}
    if isinstance(routing, Weighted):  # two weights; the one with no users disabled at 0% and 100%
        wanted = tm_endpoints(percent) if before is None else tm_wanted(percent, tm_endpoints(before))
        return {tm_property(routing, role): tm_value(*wanted[role]) for role in ("source", "target")}
    if isinstance(routing, ApplicationGatewayRouting):
        pool = routing.target_pool if percent >= 100 else routing.source_pool
        if routing.flight_pool and 0 < percent < 100:
            pool = routing.flight_pool
        out = {f"requestRoutingRules/{routing.rule}: backendAddressPool": f"backendAddressPools/{pool}"}
        if routing.flight_pool:  # composed at every step, used between 0% and 100%
            out[f"backendAddressPools/{routing.flight_pool}: backendAddresses"] = lb_value(
                routing, lb_members(routing, percent)
            )
        return out
    if isinstance(routing, RouteTableRouting):
        hop = routing.target_next_hop if percent >= 100 else routing.source_next_hop
        return {f"routes/{routing.route}: nextHopIpAddress": hop}
    if isinstance(routing, DnsRouting | PrivateDnsRouting):
        return edge.dns_settings(routing, percent)
    if isinstance(routing, AzureFirewallRouting):
        return edge.firewall_settings(routing, percent)
    raise ValueError(f"unknown routing provider {routing.provider!r}")


def tm_property(routing: Weighted, role: str) -> str:
    if isinstance(routing, FrontDoorRouting):
        name = routing.source_origin if role == "source" else routing.target_origin
        return f"originGroups/{routing.origin_group}/origins/{name}: enabledState, weight"
    name = routing.source_endpoint if role == "source" else routing.target_endpoint
    return f"{routing.endpoint_type}/{name}: endpointStatus, weight"


def changes(routing: Routing, before: int, after: int, release: str = "", workload: str = "") -> list[Change]:
    """The property changes moving `routing` from share `before` to share `after`."""
    old, new = settings(routing, before), settings(routing, after, before)
    where = resource(routing, release, workload)
    return [Change(where, prop, old[prop], new[prop]) for prop in new if old[prop] != new[prop]]


def revoke_change(config: RevokeAccess, release: str) -> Change:
    if config.provider == "local":
        where = f"local access record {release}"
    else:  # the plan requires the three for this provider
        where = azure_resource(
            "network security group",
            config.network_security_group or "",
            config.resource_group or "",
            config.subscription or "",
        )
    return Change(where, f"securityRules/{config.rule}", "absent", deny_rule_text(config))


def deny_rule_text(config: RevokeAccess) -> str:
    return rule_text("Deny", "Inbound", config.source_prefixes, "*", "*", config.priority)


def rule_text(access: str, direction: str, prefixes: list[str], protocol: str, port: str, priority: object) -> str:
    what = "any port and protocol" if (protocol, port) == ("*", "*") else f"protocol {protocol}, port {port}"
    return f"{access} {direction.lower()} from {', '.join(prefixes)}, {what}, priority {priority}"


# -- `promote plan` ----------------------------------------------------------------------------
def release_steps(plan: Plan) -> list[tuple[str, int]]:
    """(step, requested percent) in the order the release takes them."""
    if plan.model == "flight":
        return [(f"flight {i}", f.percent) for i, f in enumerate(plan.flights or [], 1)]
    if plan.model == "staged":
        return [("promotion (every workload at once)", 100)]
    return [("promotion", 100)]


def change_plan(plan: Plan, release: Release | None = None) -> dict:
    """Every network change each step makes, and its inverse (the rollback to 0%), per workload."""
    workloads = []
    for w in plan.workloads:
        routing, share, steps = w.routing, 0, []
        for label, requested in release_steps(plan):
            achieved = realisable_share(routing, requested)
            assert achieved is not None, "plans whose shares cannot be realised are refused at apply"
            steps.append(
                {
                    "step": label,
                    "requested_percent": requested,
                    "from_percent": share,
                    "to_percent": achieved,
                    "changes": [c.to_json() for c in changes(routing, share, achieved, plan.release, w.name)],
                    "inverse": [c.to_json() for c in changes(routing, achieved, 0, plan.release, w.name)],
                }
            )
            share = achieved
        state = release.workloads[w.name] if release else None
        workloads.append(
            {
                "name": w.name,
                "provider": routing.provider,
                "resource": resource(routing, plan.release, w.name),
                "state": state.state if state else None,
                "traffic_percent": state.traffic_percent if state else None,
                "ttl": ttl_plan(routing),
                "steps": steps,
            }
        )
    revoke = None
    if plan.revoke_access:
        revoke = {
            "when": "when every workload is promoted",
            "changes": [revoke_change(plan.revoke_access, plan.release).to_json()],
            "inverse": [],
            "note": "promote never removes the rule; delete it by hand to restore the team's access",
            "done": release.access_revoked if release else None,
        }
    return {"release": plan.release, "model": plan.model, "workloads": workloads, "revoke_access": revoke}


def change_plan_text(doc: dict) -> str:
    lines = [
        f"release {doc['release']} ({doc['model']}): the network changes of each step, and their inverse "
        "(rollback to 0%)"
    ]
    for w in doc["workloads"]:
        now = "" if w["state"] is None else f"  [now {w['state']}, {w['traffic_percent']}%]"
        lines += ["", f"{w['name']}  {w['provider']}  {w['resource']}{now}"]
        lines += ttl_plan_text(w.get("ttl"), after=False)
        for step in w["steps"]:
            asked = "" if step["requested_percent"] == step["to_percent"] else f" (asked {step['requested_percent']}%)"
            lines.append(f"  {step['step']}: {step['from_percent']}% -> {step['to_percent']}%{asked}")
            lines += _changes_text("change", step["changes"]) + _changes_text("inverse", step["inverse"])
        lines += ttl_plan_text(w.get("ttl"), after=True)
    if doc["revoke_access"]:
        r = doc["revoke_access"]
        lines += [
            "",
            f"revoke_access ({r['when']})",
            *_changes_text("change", r["changes"]),
            f"    inverse   {r['note']}",
        ]
    return "\n".join(lines)


def notes_text(doc: dict) -> str:
    """`promote plan --live`: what each workload's provider says its shares mean, read live (adapters.routing
    .live_notes adds them); "" when none were read."""
    notes = [(w["name"], n) for w in doc["workloads"] for n in w.get("notes", [])]
    if not notes:
        return ""
    return "\n\nlive check: what the shares mean here\n" + "\n".join(f"  {name}: {n}" for name, n in notes)


def _changes_text(kind: str, items: list[dict]) -> list[str]:
    if not items:
        return [f"    {kind:<9} none"]
    lines = []
    for c in items:
        lines += [f"    {kind:<9} {c['property']}", f"              from {c['from']}", f"              to   {c['to']}"]
    return lines
