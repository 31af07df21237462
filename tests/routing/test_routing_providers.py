"""The Azure providers through the real management SDKs, against the local Resource Manager."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.adapters.routing import access_revoker, router_factory
from shared.adapters.routing.network_security_group import build_revoker
from shared.application.drift import verify_release
from shared.domain.errors import RoutingError
from shared.domain.plan import (
    ApplicationGatewayRouting,
    LoadBalancerRouting,
    RevokeAccess,
    RouteTableRouting,
    TrafficManagerRouting,
)
from tests.routing import arm_resources as R

LB = f"{R.NET}/loadBalancers/lb-payroll"
POOL = f"{LB}/backendAddressPools/be-payroll"
TM = f"{R.NET}/trafficManagerProfiles/tm-payroll"
AGW = f"{R.NET}/applicationGateways/agw-payroll"
RT = f"{R.NET}/routeTables/rt-payroll"
NSG = f"{R.NET}/networkSecurityGroups/nsg-payroll"


def _router(settings, routing):
    return router_factory(lambda: None, settings)("wave-1", "payroll", routing)


def _without(doc: dict, *path: str) -> dict:
    """`doc` without the etags (they change on every write) and without the property at `path`."""
    import copy

    doc = copy.deepcopy(doc)
    doc.pop("etag", None)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node.pop(path[-1], None) if path else None
    return doc


def _pool_addresses(arm) -> list[str]:
    return [a["properties"]["ipAddress"] for a in arm.get(POOL)["properties"]["loadBalancerBackendAddresses"]]


# -- load-balancer --------------------------------------------------------------------------------
def test_load_balancer_full_flight_composes_the_pool_and_keeps_everything_else(arm, settings_arm):
    arm.seed(R.load_balancer())
    before = arm.get(LB)
    router = _router(settings_arm, LoadBalancerRouting(**R.routing("load-balancer")))
    assert router.read() == 0

    achieved = {}
    for percent in (20, 50, 100):
        arm.clear_log()
        assert router.apply(percent)
        achieved[percent] = router.read()
        puts = [r for r in arm.log if r.method == "PUT"]
        assert len(puts) == 1 and puts[0].path.endswith("/loadBalancers/lb-payroll/backendAddressPools/be-payroll")
        body = puts[0].body
        assert set(body) == {"id", "name", "properties"}  # read-only fields (etag, provisioningState) left out
        assert [
            a["properties"]["ipAddress"] for a in body["properties"]["loadBalancerBackendAddresses"]
        ] == _pool_addresses(arm)
    # 4 source and 4 target addresses: 20% is 1 of 5, 50% 4 of 8
    assert achieved == {20: 20, 50: 50, 100: 100}
    assert _pool_addresses(arm) == R.TARGETS

    after = arm.get(LB)
    for key in ("frontendIPConfigurations", "probes", "loadBalancingRules"):
        assert after["properties"][key] == before["properties"][key]
    assert after["properties"]["backendAddressPools"][1] == before["properties"]["backendAddressPools"][1]
    assert {k: after[k] for k in ("sku", "tags", "location")} == {k: before[k] for k in ("sku", "tags", "location")}


def test_load_balancer_writes_nothing_when_the_share_is_in_place(arm, settings_arm):
    arm.seed(R.load_balancer())
    router = _router(settings_arm, LoadBalancerRouting(**R.routing("load-balancer")))
    assert router.apply(0) == []
    router.apply(50)
    arm.clear_log()
    assert router.apply(50) == []
    assert [r.method for r in arm.log] == ["GET"]


def test_load_balancer_describes_the_change_it_made(arm, settings_arm):
    arm.seed(R.load_balancer())
    router = _router(settings_arm, LoadBalancerRouting(**R.routing("load-balancer")))
    [change] = router.apply(20)
    assert change.resource == f"load balancer lb-payroll in {R.RG} (subscription {R.SUB})"
    assert change.property == "backendAddressPools/be-payroll: loadBalancerBackendAddresses"
    assert change.before == "10.0.1.4, 10.0.1.5, 10.0.1.6, 10.0.1.7 (0% target)"
    assert change.after == "10.0.1.4, 10.0.1.5, 10.0.1.6, 10.0.1.7, 10.1.1.4 (20% target)"


def test_load_balancer_needs_a_virtual_network_to_add_addresses(arm, settings_arm):
    lb = R.load_balancer()
    lb["properties"]["backendAddressPools"][0]["properties"]["loadBalancerBackendAddresses"] = []
    arm.seed(lb)
    router = _router(settings_arm, LoadBalancerRouting(**R.routing("load-balancer")))
    with pytest.raises(RoutingError, match="names no virtual network"):
        router.apply(50)
    assert arm.writes() == []


# -- traffic-manager ------------------------------------------------------------------------------
def _endpoints(arm) -> dict[str, dict]:
    return {e["name"]: e for e in arm.get(TM)["properties"]["endpoints"]}


def test_traffic_manager_full_flight_and_rollback(arm, settings_arm):
    arm.seed(R.traffic_manager())
    dr_before = _endpoints(arm)["payroll-dr"]
    router = _router(settings_arm, TrafficManagerRouting(**R.routing("traffic-manager")))
    assert router.read() == 0
    seen = []
    for percent in (10, 50, 100, 0):
        arm.clear_log()
        assert router.apply(percent)
        assert router.read() == percent
        seen.append(
            {
                n: (e["properties"]["endpointStatus"], e["properties"]["weight"])
                for n, e in _endpoints(arm).items()
                if n != "payroll-dr"
            }
        )
        patches = [r for r in arm.log if r.method == "PATCH"]
        assert all(set(p.body["properties"]) <= {"endpointStatus", "weight"} for p in patches)
        assert [r.method for r in arm.log].count("GET") == 3  # the profile: before, after (no ETags), in read()
    assert seen == [
        {"payroll-onprem": ("Enabled", 90), "payroll-azure": ("Enabled", 10)},
        {"payroll-onprem": ("Enabled", 50), "payroll-azure": ("Enabled", 50)},
        {"payroll-onprem": ("Disabled", 50), "payroll-azure": ("Enabled", 50)},  # alone, any weight takes all
        {"payroll-onprem": ("Enabled", 50), "payroll-azure": ("Disabled", 50)},
    ]
    assert _endpoints(arm)["payroll-dr"] == dr_before
    assert {k: v for k, v in arm.get(TM)["properties"].items() if k != "endpoints"} == {
        k: v for k, v in R.traffic_manager()["properties"].items() if k != "endpoints"
    }


def test_traffic_manager_enables_the_endpoint_gaining_users_first(arm, settings_arm):
    arm.seed(R.traffic_manager())
    router = _router(settings_arm, TrafficManagerRouting(**R.routing("traffic-manager")))
    router.apply(100)
    arm.clear_log()
    router.apply(0)  # rollback: the source is enabled before the target is disabled
    assert [(r.path.rsplit("/", 1)[-1], r.body) for r in arm.log if r.method == "PATCH"] == [
        ("payroll-onprem", {"properties": {"endpointStatus": "Enabled"}}),
        ("payroll-azure", {"properties": {"endpointStatus": "Disabled"}}),
    ]
    arm.clear_log()
    router.apply(0)
    assert [r.method for r in arm.log] == ["GET"]


def test_traffic_manager_at_0_or_100_leaves_the_lone_endpoint_weight_alone(arm, settings_arm):
    profile = R.traffic_manager()
    profile["properties"]["endpoints"][0]["properties"]["weight"] = 1  # the source, enabled: 0% is in place
    arm.seed(profile)
    router = _router(settings_arm, TrafficManagerRouting(**R.routing("traffic-manager")))
    assert router.apply(0) == [] and arm.writes() == []
    assert router.apply(10) and router.read() == 10


def test_traffic_manager_refuses_a_profile_that_is_not_weighted(arm, settings_arm):
    profile = R.traffic_manager()
    profile["properties"]["trafficRoutingMethod"] = "Priority"
    arm.seed(profile)
    with pytest.raises(RoutingError, match="routing method is Priority, promote needs Weighted"):
        _router(settings_arm, TrafficManagerRouting(**R.routing("traffic-manager"))).apply(10)
    assert arm.writes() == []


# -- application-gateway and route-table ----------------------------------------------------------
def test_application_gateway_switches_one_rule_and_keeps_the_rest(arm, settings_arm):
    arm.seed(R.application_gateway())
    before = arm.get(AGW)
    router = _router(settings_arm, ApplicationGatewayRouting(**R.routing("application-gateway")))
    assert router.read() == 0
    assert router.apply(100) and router.read() == 100
    [put] = [r for r in arm.log if r.method == "PUT"]
    assert put.headers == {"If-Match": before["etag"]}
    assert "etag" not in put.body and "provisioningState" not in put.body["properties"]
    after = arm.get(AGW)
    rules = {r["name"]: r for r in after["properties"]["requestRoutingRules"]}
    assert rules["rule-payroll"]["properties"]["backendAddressPool"]["id"] == f"{AGW}/backendAddressPools/pool-azure"
    assert rules["rule-static"] == before["properties"]["requestRoutingRules"][1]  # unknown property included
    assert rules["rule-static"]["properties"]["futureFeature"] == {"mode": "preview", "weight": 3}
    assert _without(after, "properties", "requestRoutingRules") == _without(before, "properties", "requestRoutingRules")
    arm.clear_log()
    assert router.apply(100) == [] and arm.writes() == []
    assert router.apply(0) and router.read() == 0
    assert arm.get(AGW)["properties"]["requestRoutingRules"] == before["properties"]["requestRoutingRules"]


def test_application_gateway_never_overwrites_a_change_made_in_between(arm, settings_arm):
    arm.seed(R.application_gateway())
    router = _router(settings_arm, ApplicationGatewayRouting(**R.routing("application-gateway")))

    def someone_retunes_the_static_rule(fake):
        fake.edit(AGW, lambda gw: gw["properties"]["requestRoutingRules"][1]["properties"].update(priority=250))
        fake.edit(AGW, lambda gw: gw.update(etag='W/"theirs"'))

    arm.after("GET", "/applicationGateways/agw-payroll", someone_retunes_the_static_rule)
    assert router.apply(100)  # refused once (412), read again, merged again
    puts = [r for r in arm.log if r.method == "PUT"]
    assert [(p.status, p.headers) for p in puts] == [(412, {"If-Match": 'W/"seed"'}), (201, {"If-Match": 'W/"theirs"'})]
    rules = arm.get(AGW)["properties"]["requestRoutingRules"]
    assert rules[1]["properties"]["priority"] == 250
    assert rules[0]["properties"]["backendAddressPool"]["id"].endswith("/pool-azure")


def test_route_table_switches_one_next_hop_and_keeps_the_other_routes(arm, settings_arm):
    arm.seed(R.route_table())
    before = arm.get(RT)
    router = _router(settings_arm, RouteTableRouting(**R.routing("route-table")))
    assert router.read() == 0
    [change] = router.apply(100)
    assert router.read() == 100
    [put] = arm.writes()
    assert put.path.endswith("/routeTables/rt-payroll/routes/to-payroll")
    assert put.headers == {"If-Match": 'W/"seed"'}  # the route's ETag as read
    assert put.body == {
        "id": f"{RT}/routes/to-payroll",
        "name": "to-payroll",
        "properties": {
            "addressPrefix": "10.20.0.0/16",
            "nextHopType": "VirtualAppliance",
            "nextHopIpAddress": "10.1.0.4",
        },
    }
    assert (change.property, change.before, change.after) == (
        "routes/to-payroll: nextHopIpAddress",
        "10.0.0.4",
        "10.1.0.4",
    )
    after = arm.get(RT)
    assert after["properties"]["routes"][1] == before["properties"]["routes"][1]
    assert _without(after, "properties", "routes") == _without(before, "properties", "routes")
    arm.clear_log()
    assert router.apply(100) == [] and arm.writes() == []
    router.apply(0)
    assert arm.get(RT)["properties"]["routes"][0]["properties"]["nextHopIpAddress"] == "10.0.0.4"


def test_all_or_nothing_providers_refuse_partial_shares(arm, settings_arm):
    arm.seed(R.route_table())
    with pytest.raises(RoutingError, match="0% or 100%, not 50%"):
        _router(settings_arm, RouteTableRouting(**R.routing("route-table"))).apply(50)


# -- revoke_access --------------------------------------------------------------------------------
def test_revoke_access_adds_the_deny_rule_once(arm, settings_arm):
    arm.seed(R.security_group())
    before = arm.get(NSG)
    config = RevokeAccess(**R.revoke_access())
    revoker = access_revoker(lambda: None, settings_arm)
    revoker.revoke("wave-1", config)
    [put] = arm.writes()
    assert put.path.endswith("/networkSecurityGroups/nsg-payroll/securityRules/deny-migration-team")
    assert put.body["properties"] == {
        "access": "Deny",
        "direction": "Inbound",
        "protocol": "*",
        "priority": 100,
        "sourcePortRange": "*",
        "destinationPortRange": "*",
        "sourceAddressPrefixes": ["10.50.0.0/24"],
        "destinationAddressPrefix": "*",
        "description": "promote: the migration team's access, revoked at promotion of wave-1",
    }
    rules = {r["name"]: r for r in arm.get(NSG)["properties"]["securityRules"]}
    assert rules["allow-https"] == before["properties"]["securityRules"][0]
    assert arm.get(NSG)["properties"]["defaultSecurityRules"] == before["properties"]["defaultSecurityRules"]
    arm.clear_log()
    revoker.revoke("wave-2", config)  # an identical rule is there: nothing is written
    assert [r.method for r in arm.log] == ["GET"]


def test_revoke_access_rewrites_a_rule_that_differs(arm, settings_arm):
    arm.seed(R.security_group())
    revoker = access_revoker(lambda: None, settings_arm)
    revoker.revoke("wave-1", RevokeAccess(**R.revoke_access()))
    arm.edit(f"{NSG}/securityRules/deny-migration-team", lambda rule: rule["properties"].update(access="Allow"))
    arm.clear_log()
    revoker = build_revoker(RevokeAccess(**R.revoke_access()), settings_arm)
    made = revoker.revoke("wave-1", RevokeAccess(**R.revoke_access()))
    assert len(arm.writes()) == 1
    assert [(c.before, c.after) for c in made] == [
        (
            "Allow inbound from 10.50.0.0/24, any port and protocol, priority 100",
            "Deny inbound from 10.50.0.0/24, any port and protocol, priority 100",
        )
    ]
    assert arm.get(f"{NSG}/securityRules/deny-migration-team")["properties"]["access"] == "Deny"


# -- errors, retries, credentials -----------------------------------------------------------------
@pytest.mark.parametrize("provider", ["load-balancer", "traffic-manager", "application-gateway", "route-table"])
def test_a_missing_resource_is_named(arm, settings_arm, provider):
    routing = {
        "load-balancer": LoadBalancerRouting,
        "traffic-manager": TrafficManagerRouting,
        "application-gateway": ApplicationGatewayRouting,
        "route-table": RouteTableRouting,
    }[provider]
    router = _router(settings_arm, routing(**R.routing(provider)))
    with pytest.raises(RoutingError) as caught:
        router.read()
    message = str(caught.value)
    name = {
        "load-balancer": "load balancer lb-payroll",
        "traffic-manager": "Traffic Manager profile tm-payroll",
        "application-gateway": "application gateway agw-payroll",
        "route-table": "route table rt-payroll",
    }[provider]
    assert f"{name} in {R.RG} (subscription {R.SUB}): not found (404)" in message


def test_access_denied_names_the_resource_and_the_permission(arm, settings_arm):
    arm.seed(R.load_balancer())
    arm.fail("PUT", "/backendAddressPools/be-payroll", 403)
    router = _router(settings_arm, LoadBalancerRouting(**R.routing("load-balancer")))
    with pytest.raises(RoutingError) as caught:
        router.apply(50)
    assert str(caught.value).startswith(
        f"backend pool be-payroll of load balancer lb-payroll in {R.RG} (subscription {R.SUB}): access denied (403); "
        "the identity needs Microsoft.Network/loadBalancers/backendAddressPools/read and /write"
    )
    assert "AuthorizationFailed" in str(caught.value)
    assert router.read() == 0  # nothing changed


def test_a_missing_security_group_is_named(arm, settings_arm):
    with pytest.raises(RoutingError, match=r"network security group nsg-payroll in rg-payroll-net .*not found \(404\)"):
        access_revoker(lambda: None, settings_arm).revoke("wave-1", RevokeAccess(**R.revoke_access()))


def test_throttling_is_retried_by_the_sdk(arm, settings_arm):
    arm.seed(R.load_balancer())
    arm.fail("GET", "/backendAddressPools/be-payroll", 429, retry_after="0")
    arm.fail("PUT", "/backendAddressPools/be-payroll", 429, retry_after="0")
    router = _router(settings_arm, LoadBalancerRouting(**R.routing("load-balancer")))
    assert router.apply(50)
    assert [(r.method, r.status) for r in arm.log if "/backendAddressPools/" in r.path][:4] == [
        ("GET", 429),
        ("GET", 200),
        ("PUT", 429),
        ("PUT", 201),
    ]
    assert router.read() == 50


def test_a_conflict_fails_the_change_and_a_redelivery_converges(arm, settings_arm):
    arm.seed(R.route_table())
    arm.fail("PUT", "/routes/to-payroll", 409)
    router = _router(settings_arm, RouteTableRouting(**R.routing("route-table")))
    with pytest.raises(RoutingError, match=r"route to-payroll of route table rt-payroll .*: conflict \(409\)"):
        router.apply(100)
    assert router.apply(100) and router.read() == 100  # what the platform's redelivery does


def test_the_arm_endpoint_and_its_scope_are_used(arm, settings_arm, credential):
    arm.seed(R.route_table())
    _router(settings_arm, RouteTableRouting(**R.routing("route-table"))).read()
    assert credential.scopes and set(credential.scopes) == {(f"{arm.url}/.default",)}
    assert all(r.api_version for r in arm.log)


# -- drift ----------------------------------------------------------------------------------------
def test_an_out_of_band_change_is_read_back_as_drift(arm, settings_arm):
    from shared.domain.model import new_release
    from shared.domain.plan import validate_plan

    arm.seed(R.load_balancer())
    plan = validate_plan(
        {
            "release": "wave-1",
            "model": "flight",
            "flights": [{"percent": 50}, {"percent": 100}],
            "workloads": [{"name": "payroll", "assets": ["vm-1"], "routing": R.routing("load-balancer")}],
        }
    )
    release = new_release(plan)
    release = release.evolve(
        workloads={"payroll": release.workloads["payroll"].evolve(state="flighting", flight=1, traffic_percent=50)}
    )
    routers = router_factory(lambda: None, settings_arm)
    routers("wave-1", "payroll", plan.workloads[0].routing).apply(50)
    [check] = verify_release(release, routers)
    assert (check.live_percent, check.drift) == (50, False)

    def remove_two_targets(pool):
        addresses = pool["properties"]["loadBalancerBackendAddresses"]
        pool["properties"]["loadBalancerBackendAddresses"] = [
            a for a in addresses if a["properties"]["ipAddress"] not in ("10.1.1.6", "10.1.1.7")
        ]

    arm.edit(POOL, remove_two_targets)
    arm.clear_log()
    [check] = verify_release(release, routers)
    assert (check.expected_percent, check.live_percent, check.drift) == (50, 33, True)
    assert arm.writes() == []  # verifying never writes
    [difference] = check.differences
    assert difference.resource.startswith("load balancer lb-payroll")
    assert difference.before == "10.0.1.4, 10.0.1.5, 10.0.1.6, 10.0.1.7, 10.1.1.4, 10.1.1.5 (33% target)"
    assert "drift on load balancer lb-payroll" in check.summary()


# -- cold start -----------------------------------------------------------------------------------
def test_importing_the_app_and_the_providers_loads_no_management_sdk():
    code = (
        "import sys, function_app, shared.domain.routing, shared.local.routing_cli\n"
        "import shared.adapters.routing.load_balancer, shared.adapters.routing.traffic_manager\n"
        "import shared.adapters.routing.application_gateway, shared.adapters.routing.route_table\n"
        "import shared.adapters.routing.network_security_group\n"
        "try:\n    import functions.drift\nexcept ModuleNotFoundError:\n    pass\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('azure.mgmt', 'azure.identity')))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])
