"""What `promote plan` shows (shared/domain/routing.py): every network change of each step and its inverse, as
text and as JSON, pinned whole for each provider; and the helpers that name shares, weights and refusals."""

from __future__ import annotations

import dataclasses

from shared.domain.model import WorkloadState, new_release
from shared.domain.plan import validate_plan
from shared.domain.routing import (
    Change,
    change_plan,
    change_plan_text,
    changes,
    foreign_refusal,
    lb_value,
    notes_text,
    resource,
    rule_text,
    settings,
    tm_share,
    tm_value,
    tm_wanted,
    true_share,
)

SUB = "00000000-0000-0000-0000-000000000001"
WHERE = f"in rg (subscription {SUB})"
LB = {
    "provider": "load-balancer",
    "subscription": SUB,
    "resource_group": "rg",
    "load_balancer": "lb1",
    "backend_pool": "pool",
    "source_addresses": ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
    "target_addresses": ["10.0.1.1"],
    "drain_period": 30,
}
FLIGHTS = {
    "release": "r1",
    "model": "flight",
    "flights": [{"percent": 25}, {"percent": 50}, {"percent": 100}],
    "revoke_access": {
        "subscription": SUB,
        "resource_group": "rg",
        "network_security_group": "nsg",
        "source_prefixes": ["10.9.0.0/16", "10.8.0.1"],
        "priority": 200,
    },
    "workloads": [
        {"name": "web", "assets": ["a"]},
        {"name": "lb", "assets": ["b"], "routing": LB},
        {
            "name": "tm",
            "assets": ["c"],
            "routing": {
                "provider": "traffic-manager",
                "subscription": SUB,
                "resource_group": "rg",
                "profile": "tmp",
                "source_endpoint": "old",
                "target_endpoint": "new",
            },
        },
        {
            "name": "fd",
            "assets": ["d"],
            "routing": {
                "provider": "front-door",
                "subscription": SUB,
                "resource_group": "rg",
                "profile": "fdp",
                "origin_group": "og",
                "source_origin": "o1",
                "target_origin": "o2",
            },
        },
        {
            "name": "agw",
            "assets": ["e"],
            "routing": {
                "provider": "application-gateway",
                "subscription": SUB,
                "resource_group": "rg",
                "application_gateway": "gw",
                "rule": "r",
                "source_pool": "sp",
                "target_pool": "tp",
                "flight_pool": "fp",
                "source_addresses": ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
                "target_addresses": ["app.contoso.com"],
            },
        },
    ],
}

FLIGHTS_TEXT = """release r1 (flight): the network changes of each step, and their inverse (rollback to 0%)

web  local  local routing record r1/web
  flight 1: 0% -> 25%
    change    traffic_percent
              from 0
              to   25
    inverse   traffic_percent
              from 25
              to   0
  flight 2: 25% -> 50%
    change    traffic_percent
              from 25
              to   50
    inverse   traffic_percent
              from 50
              to   0
  flight 3: 50% -> 100%
    change    traffic_percent
              from 50
              to   100
    inverse   traffic_percent
              from 100
              to   0

lb  load-balancer  load balancer lb1 in rg (subscription 00000000-0000-0000-0000-000000000001)
  flight 1: 0% -> 25%
    change    backendAddressPools/pool: loadBalancerBackendAddresses
              from 10.0.0.1, 10.0.0.2, 10.0.0.3 (0% target)
              to   10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.1.1 (25% target)
    inverse   backendAddressPools/pool: loadBalancerBackendAddresses
              from 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.1.1 (25% target)
              to   10.0.0.1, 10.0.0.2, 10.0.0.3 (0% target)
  flight 2: 25% -> 50%
    change    backendAddressPools/pool: loadBalancerBackendAddresses
              from 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.1.1 (25% target)
              to   10.0.0.1, 10.0.1.1 (50% target)
    inverse   backendAddressPools/pool: loadBalancerBackendAddresses
              from 10.0.0.1, 10.0.1.1 (50% target)
              to   10.0.0.1, 10.0.0.2, 10.0.0.3 (0% target)
  flight 3: 50% -> 100%
    change    backendAddressPools/pool: loadBalancerBackendAddresses
              from 10.0.0.1, 10.0.1.1 (50% target)
              to   10.0.1.1 (100% target)
    inverse   backendAddressPools/pool: loadBalancerBackendAddresses
              from 10.0.1.1 (100% target)
              to   10.0.0.1, 10.0.0.2, 10.0.0.3 (0% target)

tm  traffic-manager  Traffic Manager profile tmp in rg (subscription 00000000-0000-0000-0000-000000000001)
  flight 1: 0% -> 25%
    change    externalEndpoints/old: endpointStatus, weight
              from Enabled
              to   Enabled, weight 75
    change    externalEndpoints/new: endpointStatus, weight
              from Disabled
              to   Enabled, weight 25
    inverse   externalEndpoints/new: endpointStatus, weight
              from Enabled, weight 25
              to   Disabled
  flight 2: 25% -> 50%
    change    externalEndpoints/old: endpointStatus, weight
              from Enabled, weight 75
              to   Enabled, weight 50
    change    externalEndpoints/new: endpointStatus, weight
              from Enabled, weight 25
              to   Enabled, weight 50
    inverse   externalEndpoints/new: endpointStatus, weight
              from Enabled, weight 50
              to   Disabled
  flight 3: 50% -> 100%
    change    externalEndpoints/old: endpointStatus, weight
              from Enabled, weight 50
              to   Disabled
    inverse   externalEndpoints/old: endpointStatus, weight
              from Disabled
              to   Enabled
    inverse   externalEndpoints/new: endpointStatus, weight
              from Enabled
              to   Disabled

fd  front-door  Front Door profile fdp in rg (subscription 00000000-0000-0000-0000-000000000001)
  flight 1: 0% -> 25%
    change    originGroups/og/origins/o1: enabledState, weight
              from Enabled
              to   Enabled, weight 75
    change    originGroups/og/origins/o2: enabledState, weight
              from Disabled
              to   Enabled, weight 25
    inverse   originGroups/og/origins/o2: enabledState, weight
              from Enabled, weight 25
              to   Disabled
  flight 2: 25% -> 50%
    change    originGroups/og/origins/o1: enabledState, weight
              from Enabled, weight 75
              to   Enabled, weight 50
    change    originGroups/og/origins/o2: enabledState, weight
              from Enabled, weight 25
              to   Enabled, weight 50
    inverse   originGroups/og/origins/o2: enabledState, weight
              from Enabled, weight 50
              to   Disabled
  flight 3: 50% -> 100%
    change    originGroups/og/origins/o1: enabledState, weight
              from Enabled, weight 50
              to   Disabled
    inverse   originGroups/og/origins/o1: enabledState, weight
              from Disabled
              to   Enabled
    inverse   originGroups/og/origins/o2: enabledState, weight
              from Enabled
              to   Disabled

agw  application-gateway  application gateway gw in rg (subscription 00000000-0000-0000-0000-000000000001)
  flight 1: 0% -> 25%
    change    requestRoutingRules/r: backendAddressPool
              from backendAddressPools/sp
              to   backendAddressPools/fp
    change    backendAddressPools/fp: backendAddresses
              from 10.0.0.1, 10.0.0.2, 10.0.0.3 (0% target)
              to   10.0.0.1, 10.0.0.2, 10.0.0.3, app.contoso.com (25% target)
    inverse   requestRoutingRules/r: backendAddressPool
              from backendAddressPools/fp
              to   backendAddressPools/sp
    inverse   backendAddressPools/fp: backendAddresses
              from 10.0.0.1, 10.0.0.2, 10.0.0.3, app.contoso.com (25% target)
              to   10.0.0.1, 10.0.0.2, 10.0.0.3 (0% target)
  flight 2: 25% -> 50%
    change    backendAddressPools/fp: backendAddresses
              from 10.0.0.1, 10.0.0.2, 10.0.0.3, app.contoso.com (25% target)
              to   10.0.0.1, app.contoso.com (50% target)
    inverse   requestRoutingRules/r: backendAddressPool
              from backendAddressPools/fp
              to   backendAddressPools/sp
    inverse   backendAddressPools/fp: backendAddresses
              from 10.0.0.1, app.contoso.com (50% target)
              to   10.0.0.1, 10.0.0.2, 10.0.0.3 (0% target)
  flight 3: 50% -> 100%
    change    requestRoutingRules/r: backendAddressPool
              from backendAddressPools/fp
              to   backendAddressPools/tp
    change    backendAddressPools/fp: backendAddresses
              from 10.0.0.1, app.contoso.com (50% target)
              to   app.contoso.com (100% target)
    inverse   requestRoutingRules/r: backendAddressPool
              from backendAddressPools/tp
              to   backendAddressPools/sp
    inverse   backendAddressPools/fp: backendAddresses
              from app.contoso.com (100% target)
              to   10.0.0.1, 10.0.0.2, 10.0.0.3 (0% target)

revoke_access (when every workload is promoted)
    change    securityRules/deny-migration-team
              from absent
              to   Deny inbound from 10.9.0.0/16, 10.8.0.1, any port and protocol, priority 200
    inverse   promote never removes the rule; delete it by hand to restore the team's access"""


def test_the_change_plan_of_a_flight_release_over_every_weighted_and_pooled_provider():
    assert change_plan_text(change_plan(validate_plan(FLIGHTS))) == FLIGHTS_TEXT


def test_the_change_plan_of_a_staged_release_with_its_state_and_a_local_revocation():
    plan = validate_plan(
        {
            "release": "r2",
            "model": "staged",
            "approvers": ["ana"],
            "revoke_access": {"provider": "local", "source_prefixes": ["10.9.0.0/16"]},
            "workloads": [
                {
                    "name": "rt",
                    "assets": ["a"],
                    "routing": {
                        "provider": "route-table",
                        "subscription": SUB,
                        "resource_group": "rg",
                        "route_table": "rtab",
                        "route": "default",
                        "source_next_hop": "10.0.0.4",
                        "target_next_hop": "10.1.0.4",
                    },
                }
            ],
        }
    )
    release = new_release(plan)
    rt = dataclasses.replace(release.workloads["rt"], state=WorkloadState.FLIGHTING, traffic_percent=40)
    doc = change_plan(plan, dataclasses.replace(release, access_revoked=True, workloads={"rt": rt}))
    table = f"route table rtab {WHERE}"
    assert doc == {
        "release": "r2",
        "model": "staged",
        "workloads": [
            {
                "name": "rt",
                "provider": "route-table",
                "resource": table,
                "state": "flighting",
                "traffic_percent": 40,
                "ttl": None,
                "steps": [
                    {
                        "step": "promotion (every workload at once)",
                        "requested_percent": 100,
                        "from_percent": 0,
                        "to_percent": 100,
                        "changes": [
                            {
                                "resource": table,
                                "property": "routes/default: nextHopIpAddress",
                                "from": "10.0.0.4",
                                "to": "10.1.0.4",
                            }
                        ],
                        "inverse": [
                            {
                                "resource": table,
                                "property": "routes/default: nextHopIpAddress",
                                "from": "10.1.0.4",
                                "to": "10.0.0.4",
                            }
                        ],
                    }
                ],
            }
        ],
        "revoke_access": {
            "when": "when every workload is promoted",
            "changes": [
                {
                    "resource": "local access record r2",
                    "property": "securityRules/deny-migration-team",
                    "from": "absent",
                    "to": "Deny inbound from 10.9.0.0/16, any port and protocol, priority 100",
                }
            ],
            "inverse": [],
            "note": "promote never removes the rule; delete it by hand to restore the team's access",
            "done": True,
        },
    }
    assert change_plan_text(doc) == (
        "release r2 (staged): the network changes of each step, and their inverse (rollback to 0%)\n"
        "\n"
        f"rt  route-table  {table}  [now flighting, 40%]\n"
        "  promotion (every workload at once): 0% -> 100%\n"
        "    change    routes/default: nextHopIpAddress\n"
        "              from 10.0.0.4\n"
        "              to   10.1.0.4\n"
        "    inverse   routes/default: nextHopIpAddress\n"
        "              from 10.1.0.4\n"
        "              to   10.0.0.4\n"
        "\n"
        "revoke_access (when every workload is promoted)\n"
        "    change    securityRules/deny-migration-team\n"
        "              from absent\n"
        "              to   Deny inbound from 10.9.0.0/16, any port and protocol, priority 100\n"
        "    inverse   promote never removes the rule; delete it by hand to restore the team's access"
    )


def test_a_single_step_release_without_state_or_revocation():
    plan = validate_plan({"release": "r4", "model": "single-step", "workloads": [{"name": "w", "assets": ["a"]}]})
    record = "local routing record r4/w"
    assert change_plan(plan) == {
        "release": "r4",
        "model": "single-step",
        "workloads": [
            {
                "name": "w",
                "provider": "local",
                "resource": record,
                "state": None,
                "traffic_percent": None,
                "ttl": None,
                "steps": [
                    {
                        "step": "promotion",
                        "requested_percent": 100,
                        "from_percent": 0,
                        "to_percent": 100,
                        "changes": [{"resource": record, "property": "traffic_percent", "from": "0", "to": "100"}],
                        "inverse": [{"resource": record, "property": "traffic_percent", "from": "100", "to": "0"}],
                    }
                ],
            }
        ],
        "revoke_access": None,
    }


def test_a_share_the_pool_cannot_make_exactly_shows_what_was_asked():
    plan = validate_plan(
        {
            "release": "r3",
            "model": "flight",
            "flights": [{"percent": 30}, {"percent": 100}],
            "workloads": [{"name": "lb", "assets": ["b"], "routing": LB}],
        }
    )
    doc = change_plan(plan)
    assert [(s["requested_percent"], s["from_percent"], s["to_percent"]) for s in doc["workloads"][0]["steps"]] == [
        (30, 0, 33),
        (100, 33, 100),
    ]
    prop = "backendAddressPools/pool: loadBalancerBackendAddresses"
    assert change_plan_text(doc) == (
        "release r3 (flight): the network changes of each step, and their inverse (rollback to 0%)\n"
        "\n"
        f"lb  load-balancer  load balancer lb1 {WHERE}\n"
        "  flight 1: 0% -> 33% (asked 30%)\n"
        f"    change    {prop}\n"
        "              from 10.0.0.1, 10.0.0.2, 10.0.0.3 (0% target)\n"
        "              to   10.0.0.1, 10.0.0.2, 10.0.1.1 (33% target)\n"
        f"    inverse   {prop}\n"
        "              from 10.0.0.1, 10.0.0.2, 10.0.1.1 (33% target)\n"
        "              to   10.0.0.1, 10.0.0.2, 10.0.0.3 (0% target)\n"
        "  flight 2: 33% -> 100%\n"
        f"    change    {prop}\n"
        "              from 10.0.0.1, 10.0.0.2, 10.0.1.1 (33% target)\n"
        "              to   10.0.1.1 (100% target)\n"
        f"    inverse   {prop}\n"
        "              from 10.0.1.1 (100% target)\n"
        "              to   10.0.0.1, 10.0.0.2, 10.0.0.3 (0% target)"
    )


def _routing(section: dict):
    plan = validate_plan(
        {"release": "r1", "model": "single-step", "workloads": [{"name": "w", "assets": ["a"], "routing": section}]}
    )
    return plan.workloads[0].routing


def test_a_load_balancer_sets_its_pool_and_its_drain_period():
    routing = _routing(LB)
    assert settings(routing, 0) == {
        "backendAddressPools/pool: loadBalancerBackendAddresses": "10.0.0.1, 10.0.0.2, 10.0.0.3 (0% target)",
        "backendAddressPools/pool: drainPeriodInSeconds": "30",
    }
    assert settings(_routing({**LB, "drain_period": None}), 100) == {
        "backendAddressPools/pool: loadBalancerBackendAddresses": "10.0.1.1 (100% target)",
    }


def test_the_pool_value_counts_members_the_plan_does_not_name():
    routing = _routing(LB)
    assert lb_value(routing, {"10.0.0.1", "10.0.1.1"}) == "10.0.0.1, 10.0.1.1 (50% target)"
    assert lb_value(routing, ["10.0.1.1"], ["10.7.0.1", "10.7.0.2"]) == (
        "10.0.1.1 + not in the plan: 10.7.0.1, 10.7.0.2 (33% target)"
    )
    assert lb_value(routing, [], ["10.7.0.1"]) == "(none) + not in the plan: 10.7.0.1 (0% target)"
    assert lb_value(routing, []) == "(none) (no member)"
    assert lb_value(routing, ["10.0.0.2", "10.0.0.1"]) == "10.0.0.1, 10.0.0.2 (0% target)"


def test_an_application_gateway_without_a_flight_pool_switches_its_rule():
    gateway = {
        "provider": "application-gateway",
        "subscription": SUB,
        "resource_group": "rg",
        "application_gateway": "gw",
        "rule": "r",
        "source_pool": "sp",
        "target_pool": "tp",
    }
    routing = _routing(gateway)
    assert settings(routing, 0) == {"requestRoutingRules/r: backendAddressPool": "backendAddressPools/sp"}
    assert settings(routing, 99) == {"requestRoutingRules/r: backendAddressPool": "backendAddressPools/sp"}
    assert settings(routing, 100) == {"requestRoutingRules/r: backendAddressPool": "backendAddressPools/tp"}
    assert [str(c) for c in changes(routing, 0, 100)] == [
        f"application gateway gw {WHERE}: requestRoutingRules/r: backendAddressPool "
        "backendAddressPools/sp -> backendAddressPools/tp"
    ]
    assert changes(routing, 100, 100) == []


def test_a_nested_traffic_manager_endpoint_keeps_its_weight_at_the_ends():
    routing = _routing(
        {
            "provider": "traffic-manager",
            "subscription": SUB,
            "resource_group": "rg",
            "profile": "tmp",
            "source_endpoint": "old",
            "target_endpoint": "new",
            "endpoint_type": "nestedEndpoints",
        }
    )
    assert settings(routing, 100, before=50) == {
        "nestedEndpoints/old: endpointStatus, weight": "Disabled",
        "nestedEndpoints/new: endpointStatus, weight": "Enabled, weight 50",
    }
    assert settings(routing, 0, before=100) == {
        "nestedEndpoints/old: endpointStatus, weight": "Enabled",
        "nestedEndpoints/new: endpointStatus, weight": "Disabled",
    }
    assert settings(routing, 1) == {
        "nestedEndpoints/old: endpointStatus, weight": "Enabled, weight 99",
        "nestedEndpoints/new: endpointStatus, weight": "Enabled, weight 1",
    }


def test_weights_and_shares():
    assert tm_wanted(100, {"source": (True, 60), "target": (True, 40)}) == {
        "source": (False, None),
        "target": (True, 40),
    }
    assert tm_wanted(100, {"source": (True, 60), "target": (False, 40)}) == {
        "source": (False, None),
        "target": (True, None),
    }
    assert tm_wanted(0, {"source": (True, 60), "target": (True, 40)}) == {
        "source": (True, 60),
        "target": (False, None),
    }
    assert tm_wanted(30, {"source": (True, 60), "target": (True, 40)}) == {
        "source": (True, 70),
        "target": (True, 30),
    }
    assert (tm_value(False, 5), tm_value(True, None), tm_value(True, 0)) == ("Disabled", "Enabled", "Enabled, weight 0")
    assert tm_share((True, 1), (True, 3)) == 75
    assert tm_share((True, 1), (True, 2)) == 67
    assert tm_share((False, 1), (True, 3)) == 100
    assert tm_share((True, 1), (False, 3)) == 0
    assert tm_share((False, 1), (False, 3)) is None
    assert true_share(1, 3) == 33
    assert true_share(2, 3) == 67
    assert true_share(0, 0) is None


def test_a_foreign_member_refusal():
    assert foreign_refusal("load balancer lb1", "pool members", ["10.7.0.1", "10.7.0.2"], 50, 33) == (
        "load balancer lb1: refused before any change: 50% would really be 33% of the traffic, because pool "
        "members the plan does not name also receive it: 10.7.0.1, 10.7.0.2; remove or disable them, or name "
        "them in the plan"
    )
    assert foreign_refusal("x", "endpoints", ["e"], 100, None).startswith(
        "x: refused before any change: 100% would really be 0% of the traffic, because endpoints"
    )


def test_small_texts():
    assert str(Change("res", "prop", "a", "b")) == "res: prop a -> b"
    assert Change("res", "prop", "a", "b").to_json() == {"resource": "res", "property": "prop", "from": "a", "to": "b"}
    assert rule_text("Allow", "Outbound", ["10.0.0.0/8"], "Tcp", "443", 300) == (
        "Allow outbound from 10.0.0.0/8, protocol Tcp, port 443, priority 300"
    )
    assert (
        rule_text("Deny", "Inbound", ["a"], "*", "22", 100) == "Deny inbound from a, protocol *, port 22, priority 100"
    )
    assert resource(_routing({"provider": "local"})) == "local routing record /"
    assert notes_text({"workloads": [{"name": "w"}]}) == ""
    assert notes_text({"workloads": [{"name": "w", "notes": ["n1", "n2"]}, {"name": "v", "notes": ["n3"]}]}) == (
        "\n\nlive check: what the shares mean here\n  w: n1\n  w: n2\n  v: n3"
    )


def test_a_network_security_group_revocation_names_its_resource():
    doc = change_plan(validate_plan(FLIGHTS))
    assert doc["revoke_access"] == {
        "when": "when every workload is promoted",
        "changes": [
            {
                "resource": f"network security group nsg {WHERE}",
                "property": "securityRules/deny-migration-team",
                "from": "absent",
                "to": "Deny inbound from 10.9.0.0/16, 10.8.0.1, any port and protocol, priority 200",
            }
        ],
        "inverse": [],
        "note": "promote never removes the rule; delete it by hand to restore the team's access",
        "done": None,
    }


def test_a_dns_cutover_shows_its_ttl_choreography():
    zone = f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/dnsZones/contoso.com"
    routing = {
        "provider": "dns",
        "zone": zone,
        "record": "app",
        "type": "A",
        "source": ["10.0.0.1"],
        "target": ["10.1.0.1"],
        "lower_ttl_to": 60,
    }
    plan = validate_plan(
        {"release": "r5", "model": "single-step", "workloads": [{"name": "w", "assets": ["a"], "routing": routing}]}
    )
    doc = change_plan(plan)
    assert doc["workloads"][0]["ttl"] == {
        "lower_ttl_to": 60,
        "lowered": "at apply (the original kept in the record set's metadata)",
        "switch_waits": "until the old TTL has passed since the lowering (gate ttl)",
        "restored": "at finalize",
    }
    assert change_plan_text(doc) == (
        "release r5 (single-step): the network changes of each step, and their inverse (rollback to 0%)\n"
        "\n"
        f"w  dns  DNS zone contoso.com in rg-dns (subscription {SUB})\n"
        "  at apply: TTL lowered to 60s; the switch waits until the old TTL has passed since the lowering (gate ttl)\n"
        "  promotion: 0% -> 100%\n"
        "    change    A/app: records\n"
        "              from 10.0.0.1\n"
        "              to   10.1.0.1\n"
        "    inverse   A/app: records\n"
        "              from 10.1.0.1\n"
        "              to   10.0.0.1\n"
        "  at finalize: TTL back to its original"
    )
