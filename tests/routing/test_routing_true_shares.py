"""Shares that are true (issue 25): Front Door priority and latency band, the network security group's rule
order, a load balancer's adminState and draining, an application gateway's mixed flight pool. Each case is
a distortion Azure documents; promote refuses it (naming the setting and the member) or says what it does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.adapters.routing import access_revoker, router_factory
from shared.domain.errors import RoutingError
from shared.domain.plan import ApplicationGatewayRouting, FrontDoorRouting, LoadBalancerRouting, RevokeAccess
from tests.routing import arm_resources as R

NSG = f"{R.NET}/networkSecurityGroups/nsg-payroll"
POOL = f"{R.NET}/loadBalancers/lb-payroll/backendAddressPools/be-payroll"
AGW = f"{R.NET}/applicationGateways/agw-payroll"


def _router(settings, routing):
    return router_factory(lambda: None, settings)("wave-1", "payroll", routing)


# -- Front Door: priority and the latency band --------------------------------------------------------
def _seed_front_door(arm, group: dict | None = None, **origins):
    for doc in R.front_door():
        if doc["name"] in origins:
            doc["properties"].update(origins[doc["name"]])
        if doc["name"] == "og-payroll" and group:
            doc["properties"]["loadBalancingSettings"].update(group)
        arm.seed(doc)


def test_front_door_an_origin_of_better_priority_takes_every_request_and_is_named(arm, settings_arm):
    # the standby at priority 1 is better than the plan's origins (2): while healthy it gets everything
    _seed_front_door(
        arm,
        **{
            "payroll-onprem": {"priority": 2},
            "payroll-azure": {"priority": 2},
            "payroll-standby": {"priority": 1, "weight": 1000},
        },
    )
    router = _router(settings_arm, FrontDoorRouting(**R.routing("front-door")))
    with pytest.raises(
        RoutingError,
        match=r"refused before any change: 50% would really be 0% .* origin payroll-standby has priority 1, better "
        r"than the plan's origins \(2\): Front Door sends it every request while it is healthy",
    ):
        router.apply(50)
    assert arm.writes() == []
    assert router.read() == 0  # the true share: none of the traffic reaches the plan's origins
    assert router.problems([0]) == []  # 0% is never refused


def test_front_door_weights_with_no_latency_band_are_refused_for_flights(arm, settings_arm):
    _seed_front_door(arm, group={"additionalLatencyInMilliseconds": 0})
    router = _router(settings_arm, FrontDoorRouting(**R.routing("front-door")))
    [refusal] = router.problems([10, 100])
    assert refusal.endswith(
        ": 10% is not a share Front Door keeps: loadBalancingSettings.additionalLatencyInMilliseconds is 0, so each "
        "Front Door environment sends every request to whichever of payroll-onprem and payroll-azure is faster "
        "from it and the weights split nothing; raise it above the latency difference between the two origins"
    )
    with pytest.raises(RoutingError, match="additionalLatencyInMilliseconds is 0"):
        router.apply(10)
    assert arm.writes() == []
    assert router.apply(100)  # a switch is not a split: it holds whatever the latencies


def test_front_door_notes_name_the_latency_band_and_session_affinity(arm, settings_arm):
    _seed_front_door(arm)
    settings = R.front_door()[1]["properties"]
    assert settings["loadBalancingSettings"]["additionalLatencyInMilliseconds"] == 50
    arm.edit(
        f"{R.CDN}/profiles/afd-payroll/originGroups/og-payroll",
        lambda g: g["properties"].update(sessionAffinityState="Enabled"),
    )
    notes = _router(settings_arm, FrontDoorRouting(**R.routing("front-door"))).notes([10, 100])
    assert any("within 50 ms of the fastest" in n and "the share varies by Front Door environment" in n for n in notes)
    assert any("session affinity is enabled" in n and "new sessions" in n for n in notes)


# -- the network security group: first match by priority wins ------------------------------------------------
def _nsg_with(arm, *rules: dict):
    group = R.security_group()
    for rule in rules:
        group["properties"]["securityRules"].append(
            {
                "id": f"{NSG}/securityRules/{rule['name']}",
                "name": rule["name"],
                "etag": 'W/"seed"',
                "properties": {
                    "protocol": "Tcp",
                    "sourcePortRange": "*",
                    "destinationPortRange": "22",
                    "destinationAddressPrefix": "*",
                    "direction": "Inbound",
                    "access": "Allow",
                    **rule["properties"],
                },
            }
        )
    arm.seed(group)


def test_an_earlier_allow_that_lets_the_team_in_refuses_the_revocation(arm, settings_arm):
    # allow-admins (priority 150) lets 10.50.0.0/16 in on 22: promote's deny at 300 would never be reached
    _nsg_with(arm, {"name": "allow-admins", "properties": {"priority": 150, "sourceAddressPrefix": "10.50.0.0/16"}})
    config = RevokeAccess(**R.revoke_access(priority=300))
    revoker = access_revoker(lambda: None, settings_arm)
    problems = revoker.problems("wave-1", config)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "inbound rule allow-admins (Allow, priority 150, from 10.50.0.0/16, Tcp port 22) is evaluated before "
        "promote's deny at priority 300 and lets the migration team (10.50.0.0/24) in; choose a priority below "
        "150 (e.g. 149), or narrow that rule",
        "inbound rule allow-https (Allow, priority 200, from *, Tcp port 443) is evaluated before promote's deny at "
        "priority 300 and lets the migration team (10.50.0.0/24) in; choose a priority below 150 (e.g. 149), or "
        "narrow that rule",
    ]
    with pytest.raises(RoutingError, match="allow-admins"):
        revoker.revoke("wave-1", config)
    assert arm.writes() == []  # "access revoked" is never recorded while the team still gets in


def test_rules_that_do_not_match_the_team_do_not_refuse_and_a_winning_deny_is_written(arm, settings_arm):
    _nsg_with(
        arm,
        {"name": "allow-ops", "properties": {"priority": 110, "sourceAddressPrefix": "10.60.0.0/24"}},
        {
            "name": "deny-outbound",
            "properties": {"priority": 120, "direction": "Outbound", "access": "Allow", "sourceAddressPrefix": "*"},
        },  # fmt: skip
        {"name": "allow-vpn", "properties": {"priority": 4000, "sourceAddressPrefix": "VirtualNetwork"}},
    )
    revoker = access_revoker(lambda: None, settings_arm)
    config = RevokeAccess(**R.revoke_access(priority=130))
    assert revoker.problems("wave-1", config) == []
    assert revoker.revoke("wave-1", config)
    assert arm.get(f"{NSG}/securityRules/deny-migration-team")["properties"]["priority"] == 130


def test_a_service_tag_that_may_hold_the_team_and_an_overlapping_prefix_count(arm, settings_arm):
    _nsg_with(
        arm,
        {
            "name": "allow-vnet",
            "properties": {
                "priority": 140,
                "sourceAddressPrefix": "VirtualNetwork",
                "protocol": "*",
                "destinationPortRange": "*",
            },
        },  # fmt: skip
        {"name": "allow-part", "properties": {"priority": 145, "sourceAddressPrefixes": ["10.50.0.128/25"]}},
    )
    problems = access_revoker(lambda: None, settings_arm).problems(
        "wave-1", RevokeAccess(**R.revoke_access(priority=150))
    )
    assert len(problems) == 2
    assert "allow-vnet (Allow, priority 140, from VirtualNetwork, any protocol and port)" in problems[0]
    assert "VirtualNetwork includes the address spaces of peered and connected networks" in problems[0]
    assert "allow-part (Allow, priority 145, from 10.50.0.128/25, Tcp port 22)" in problems[1]


# -- load balancer: adminState and draining -------------------------------------------------------------
def _pool_with_down_monitor(arm, drain: int | None = None):
    lb = R.load_balancer(foreign=True)
    pool = lb["properties"]["backendAddressPools"][0]["properties"]
    next(a for a in pool["loadBalancerBackendAddresses"] if a["name"] == "monitor")["properties"]["adminState"] = "Down"
    if drain is not None:
        pool["drainPeriodInSeconds"] = drain
    arm.seed(lb)


def test_a_member_whose_admin_state_is_down_gets_no_flows_and_does_not_count(arm, settings_arm):
    _pool_with_down_monitor(arm)
    router = _router(settings_arm, LoadBalancerRouting(**R.routing("load-balancer")))
    assert router.problems([20, 50, 100]) == []
    [change] = router.apply(50)
    assert change.after.endswith("(50% target)")
    assert router.read() == 50
    addresses = arm.get(POOL)["properties"]["loadBalancerBackendAddresses"]
    assert [a["properties"]["adminState"] for a in addresses if a["name"] == "monitor"] == ["Down"]  # kept as is


def test_draining_sets_the_pools_drain_period_with_the_move_and_says_so(arm, settings_arm):
    arm.seed(R.load_balancer())
    notes = _router(settings_arm, LoadBalancerRouting(**R.routing("load-balancer"))).notes([100])
    assert any("no drainPeriodInSeconds on the pool" in n for n in notes)
    router = _router(settings_arm, LoadBalancerRouting(**R.routing("load-balancer", drain_period=60)))
    arm.clear_log()
    changes = router.apply(100)
    [put] = [r for r in arm.log if r.method == "PUT"]
    assert put.body["properties"]["drainPeriodInSeconds"] == 60
    assert [c.property for c in changes] == [
        "backendAddressPools/be-payroll: loadBalancerBackendAddresses",
        "backendAddressPools/be-payroll: drainPeriodInSeconds",
    ]
    assert (changes[1].before, changes[1].after) == ("(none)", "60")
    assert any("reset 60s after its removal" in n for n in router.notes([0]))
    arm.clear_log()
    assert router.apply(100) == [] and arm.writes() == []  # the drain period alone is no reason to write


# -- application gateway: one backend setting and probe for both sides, cookie affinity -------------------
def test_a_mixed_flight_pool_names_what_both_sides_share_and_that_affinity_skews_shares(arm, settings_arm):
    gateway = R.application_gateway()
    settings = gateway["properties"]["backendHttpSettingsCollection"][0]["properties"]
    settings.update(cookieBasedAffinity="Enabled", pickHostNameFromBackendAddress=True)
    arm.seed(gateway)
    routing = ApplicationGatewayRouting(
        **R.routing(
            "application-gateway",
            flight_pool="pool-flight",
            source_addresses=["192.168.10.4", "payroll1.onprem.contoso.com"],
            target_addresses=["10.1.1.4", "payroll-azure.contoso.com"],
        )
    )
    notes = _router(settings_arm, routing).notes([50, 100])
    text = "\n".join(notes)
    assert "cookie-based affinity is enabled on backend settings https" in text
    assert "a flight's share applies to new clients only" in text
    assert "both sides are reached with backend settings https (Https, port 443)" in text
    assert "host name taken from each member's address: members given by IP (192.168.10.4, 10.1.1.4) get" in text
    assert "default probe" in text


# -- cold start ----------------------------------------------------------------------------------------
def test_importing_the_edge_providers_loads_no_management_sdk():
    code = (
        "import sys, shared.adapters.routing.dns, shared.adapters.routing.azure_firewall, shared.application.ttl\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('azure.mgmt', 'azure.identity')))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


# -- promote plan --live names each distortion ahead of time ---------------------------------------------
def test_plan_live_names_every_distortion_before_the_release(arm, arm_stack, tmp_path, capsys):
    import json

    from shared.local.cli import main

    better = {"payroll-onprem": {"priority": 2}, "payroll-azure": {"priority": 2}, "payroll-standby": {"priority": 1}}
    _seed_front_door(arm, group={"additionalLatencyInMilliseconds": 0}, **better)
    _nsg_with(arm, {"name": "allow-admins", "properties": {"priority": 150, "sourceAddressPrefix": "10.50.0.0/16"}})
    _pool_with_down_monitor(arm)
    gateway = R.application_gateway()
    gateway["properties"]["backendHttpSettingsCollection"][0]["properties"]["cookieBasedAffinity"] = "Enabled"
    arm.seed(gateway)
    arm.seed(R.dns_zone(R.PRIVATE_ZONE))
    arm.seed(R.record_set(R.PRIVATE_ZONE, "A", "payroll", ["10.1.0.4"], ttl=3600))
    plan = {
        "release": "wave-live",
        "model": "flight",
        "flights": [{"percent": 50}, {"percent": 100}],
        "revoke_access": R.revoke_access(priority=300),
        "workloads": [
            {"name": "web", "assets": ["vm-1"], "routing": R.routing("front-door")},
            {"name": "lb", "assets": ["vm-2"], "routing": R.routing("load-balancer")},
            {
                "name": "gw",
                "assets": ["vm-3"],
                "routing": R.routing(
                    "application-gateway",
                    flight_pool="pool-flight",
                    source_addresses=["192.168.10.4"],
                    target_addresses=["10.1.1.4"],
                ),
            },  # fmt: skip
        ],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    assert main(["plan", "--file", str(path), "--live"]) == 0
    text = capsys.readouterr().out
    refused, _, meaning = text.partition("live check: what the shares mean here")
    assert "web: origin group og-payroll" in refused and "origin payroll-standby has priority 1" in refused
    assert "revoke_access: network security group nsg-payroll" in refused and "allow-admins" in refused
    assert "lb: backend pool be-payroll" in meaning and "adminState Down on 10.0.9.9" in meaning
    assert "gw: pool pool-flight" in meaning and "cookie-based affinity is enabled" in meaning

    routing = {**R.routing("private-dns"), "lower_ttl_to": 60}
    dns = {"release": "wave-dns", "model": "single-step",
           "workloads": [{"name": "payroll", "assets": ["vm-4"], "routing": routing}]}  # fmt: skip
    path.write_text(json.dumps(dns))
    assert main(["plan", "--file", str(path), "--live", "--json"]) == 0
    [workload] = json.loads(capsys.readouterr().out)["workloads"]
    assert workload["problems"] == [] and workload["ttl"]["lower_ttl_to"] == 60
    assert workload["notes"] == [
        "A record set payroll of private DNS zone corp.contoso.com in rg-payroll-net (subscription "
        f"{R.SUB}): TTL 3600s: promote apply lowers it to 60s, and the switch waits 3600s from then (resolvers may "
        "hold the old TTL that long); the original comes back at finalize"
    ]
