"""Routing as Azure really behaves (issue 10): true shares, ETag-guarded writes, refused security rules,
failed and cancelled operations, and Front Door, through the real SDKs against the local Resource Manager."""

from __future__ import annotations

import pytest

from shared.adapters.routing import access_revoker, router_factory
from shared.domain.errors import RoutingError
from shared.domain.plan import (
    FrontDoorRouting,
    LoadBalancerRouting,
    RevokeAccess,
    RouteTableRouting,
    TrafficManagerRouting,
)
from tests.routing import arm_resources as R

LB = f"{R.NET}/loadBalancers/lb-payroll"
POOL = f"{LB}/backendAddressPools/be-payroll"
TM = f"{R.NET}/trafficManagerProfiles/tm-payroll"
RT_ROUTE = f"{R.NET}/routeTables/rt-payroll/routes/to-payroll"
NSG = f"{R.NET}/networkSecurityGroups/nsg-payroll"
RULE = f"{NSG}/securityRules/deny-migration-team"
GROUP = f"{R.CDN}/profiles/afd-payroll/originGroups/og-payroll"


def _router(settings, routing):
    return router_factory(lambda: None, settings)("wave-1", "payroll", routing)


def _pool(arm) -> list[str]:
    return [a["properties"]["ipAddress"] for a in arm.get(POOL)["properties"]["loadBalancerBackendAddresses"]]


def _add_member(ip: str):
    def change(pool):
        pool["properties"]["loadBalancerBackendAddresses"].append(
            {"name": f"theirs-{ip}", "properties": {"ipAddress": ip, "virtualNetwork": {"id": R.VNET}}}
        )

    return change


# -- 1. true shares ---------------------------------------------------------------------------------
def test_load_balancer_counts_members_the_plan_does_not_name(arm, settings_arm):
    arm.seed(R.load_balancer(foreign=True))  # 4 sources + the monitor address
    router = _router(settings_arm, LoadBalancerRouting(**R.routing("load-balancer")))
    assert router.read() == 0
    with pytest.raises(RoutingError) as refused:
        router.apply(100)
    assert str(refused.value) == (
        f"backend pool be-payroll of load balancer lb-payroll in {R.RG} (subscription {R.SUB}): refused before any "
        f"change: 100% would really be 80% of the traffic, because members the plan does not name also receive it: "
        f"{R.MONITOR}; remove or disable them, or name them in the plan"
    )
    assert arm.writes() == []
    assert router.problems([20, 50, 100]) and router.problems([0]) == []  # `promote plan` shows the same
    assert router.apply(0) == []  # all on the source: the foreign member changes nothing


def test_load_balancer_reads_back_the_true_share(arm, settings_arm):
    arm.seed(R.load_balancer())
    router = _router(settings_arm, LoadBalancerRouting(**R.routing("load-balancer")))
    router.apply(100)
    arm.edit(POOL, _add_member(R.MONITOR))  # someone adds a member afterwards
    assert router.read() == 80  # not 100: one flow in five reaches the monitor address
    [difference] = router.diff(0)
    assert difference.before.endswith(f"{', '.join(R.TARGETS)} + not in the plan: {R.MONITOR} (80% target)")


def test_traffic_manager_counts_every_enabled_endpoint(arm, settings_arm):
    profile = R.traffic_manager()
    profile["properties"]["endpoints"][2]["properties"].update(endpointStatus="Enabled", weight=100)  # payroll-dr
    arm.seed(profile)
    router = _router(settings_arm, TrafficManagerRouting(**R.routing("traffic-manager")))
    arm.edit(TM, lambda p: p["properties"]["endpoints"][1]["properties"].update(endpointStatus="Enabled", weight=10))
    arm.edit(TM, lambda p: p["properties"]["endpoints"][0]["properties"].update(weight=90))
    assert router.read() == 5  # "10%" with a third endpoint at weight 100 is really 5%
    arm.clear_log()
    with pytest.raises(
        RoutingError,
        match=r"refused before any change: 50% would really be 25% .*"
        r"enabled endpoints the plan does not name .*externalEndpoints/payroll-dr \(weight 100\)",
    ):
        router.apply(50)
    assert arm.writes() == []
    assert router.apply(0)  # rolling back is never refused
    assert router.read() == 0


# -- 2. If-Match everywhere ---------------------------------------------------------------------------
def test_a_member_added_between_read_and_write_survives(arm, settings_arm):
    arm.seed(R.load_balancer())
    router = _router(settings_arm, LoadBalancerRouting(**R.routing("load-balancer")))
    router.apply(50)
    arm.after("GET", "/backendAddressPools/be-payroll", lambda fake: fake.edit(POOL, _add_member(R.MONITOR)))
    arm.clear_log()
    assert router.apply(0)  # the rollback: refused once (412), read again, merged again
    puts = [r for r in arm.log if r.method == "PUT"]
    assert [p.status for p in puts] == [412, 201] and all("If-Match" in p.headers for p in puts)
    assert puts[0].headers != puts[1].headers  # the second carries the ETag of the pool as changed
    assert _pool(arm) == R.SOURCES + [R.MONITOR]  # their member survives; ours are where 0% wants them
    assert router.read() == 0


def test_a_resource_that_keeps_changing_fails_after_bounded_attempts(arm, settings_arm):
    arm.seed(R.route_table())
    for n in range(3):
        arm.after(
            "GET",
            "/routes/to-payroll",
            lambda fake, n=n: fake.edit(
                RT_ROUTE, lambda route: route["properties"].update(addressPrefix=f"10.2{n}.0.0/16")
            ),
        )
    router = _router(settings_arm, RouteTableRouting(**R.routing("route-table")))
    with pytest.raises(
        RoutingError,
        match=r"route to-payroll .*changed by someone else meanwhile \(412\).*"
        r"still changing after 3 attempts",
    ):
        router.apply(100)
    assert [r.status for r in arm.log if r.method == "PUT"] == [412, 412, 412]
    assert arm.get(RT_ROUTE)["properties"]["nextHopIpAddress"] == "10.0.0.4"


def test_the_deny_rule_is_created_only_if_still_absent(arm, settings_arm):
    arm.seed(R.security_group())
    config = RevokeAccess(**R.revoke_access())

    def a_colleague_creates_it(fake):
        fake.edit(
            NSG,
            lambda nsg: nsg["properties"]["securityRules"].append(
                {
                    "id": RULE,
                    "name": "deny-migration-team",
                    "etag": 'W/"colleague"',
                    "properties": {
                        "protocol": "*",
                        "sourcePortRange": "*",
                        "destinationPortRange": "*",
                        "sourceAddressPrefixes": ["10.50.0.0/24"],
                        "destinationAddressPrefix": "*",
                        "access": "Deny",
                        "priority": 100,
                        "direction": "Inbound",
                    },
                }
            ),
        )

    arm.after("GET", "/networkSecurityGroups/nsg-payroll", a_colleague_creates_it)  # right after promote read it
    made = access_revoker(lambda: None, settings_arm).revoke("wave-1", config)
    assert made == []  # read again after the 412: their rule is the one wanted, nothing to write
    [put] = [r for r in arm.log if r.method == "PUT"]
    assert (put.status, put.headers) == (412, {"If-None-Match": "*"})
    assert arm.get(RULE)["etag"] == 'W/"colleague"'


# -- 3. a security rule Azure would refuse --------------------------------------------------------------
def test_a_priority_held_by_another_rule_is_named_before_anything_is_written(arm, settings_arm):
    arm.seed(R.security_group())
    config = RevokeAccess(**R.revoke_access(priority=200))  # allow-https holds 200 inbound
    revoker = access_revoker(lambda: None, settings_arm)
    [problem] = revoker.problems("wave-1", config)
    assert "revoke_access.priority 200 is already held by inbound rule allow-https" in problem
    with pytest.raises(RoutingError, match="already held by inbound rule allow-https"):
        revoker.revoke("wave-1", config)
    assert arm.writes() == []


def test_the_local_resource_manager_refuses_clashing_rules_and_bad_weights(arm, settings_arm, credential):
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.network.models import SecurityRule
    from azure.mgmt.trafficmanager import TrafficManagerManagementClient
    from azure.mgmt.trafficmanager.models import Endpoint

    arm.seed(R.security_group())
    arm.seed(R.traffic_manager())
    options = {"base_url": arm.url, "credential_scopes": [f"{arm.url}/.default"]}
    network = NetworkManagementClient(credential, R.SUB, **options)
    rule = SecurityRule(
        access="Deny",
        direction="Inbound",
        protocol="*",
        priority=200,
        source_port_range="*",
        destination_port_range="*",
        source_address_prefix="*",
        destination_address_prefix="*",
    )
    with pytest.raises(HttpResponseError) as clash:
        network.security_rules.begin_create_or_update(R.RG, "nsg-payroll", "deny-x", rule).result()
    assert clash.value.status_code == 400 and clash.value.error.code == "SecurityRuleConflict"
    rule.direction = "Outbound"  # the same priority in the other direction is fine
    network.security_rules.begin_create_or_update(R.RG, "nsg-payroll", "deny-x", rule).result()
    tm = TrafficManagerManagementClient(credential, R.SUB, **options)
    for weight in (0, 1001):
        with pytest.raises(HttpResponseError) as bad:
            tm.endpoints.update(R.RG, "tm-payroll", "ExternalEndpoints", "payroll-azure", Endpoint(weight=weight))
        assert bad.value.status_code == 400
    assert {e["name"]: e["properties"]["weight"] for e in arm.get(TM)["properties"]["endpoints"]}["payroll-azure"] == 1


# -- 4. long-running operations that fail or are cancelled ---------------------------------------------------
def test_a_failed_operation_names_the_resource_and_azures_message(arm, settings_arm):
    arm.seed(R.load_balancer())
    arm.fail_operation(
        "/backendAddressPools/be-payroll",
        "Failed",
        code="LoadBalancerInUseByVirtualMachineScaleSet",
        message="Cannot proceed with operation because load balancer is in use by a scale set.",
    )
    router = _router(settings_arm, LoadBalancerRouting(**R.routing("load-balancer")))
    with pytest.raises(RoutingError) as failed:
        router.apply(50)
    assert str(failed.value) == (
        f"backend pool be-payroll of load balancer lb-payroll in {R.RG} (subscription {R.SUB}): the operation "
        "failed: LoadBalancerInUseByVirtualMachineScaleSet: Cannot proceed with operation because load balancer "
        "is in use by a scale set."
    )
    assert router.read() == 0  # the failed operation changed nothing
    assert router.apply(50) and router.read() == 50  # the redelivery


def test_a_cancelled_and_superseded_operation_says_so(arm, settings_arm):
    arm.seed(R.route_table())
    arm.fail_operation(
        "/routes/to-payroll",
        "Canceled",
        code="Canceled",
        message="Operation was canceled.",
        details=[
            {
                "code": "CanceledAndSupersededDueToAnotherOperation",
                "message": "Operation PutRouteOperation (1) was canceled and superseded by "
                "operation PutRouteTableOperation (2).",
            }
        ],
    )
    with pytest.raises(
        RoutingError,
        match=r"^route to-payroll of route table rt-payroll .*: the operation was "
        r"canceled and superseded by another operation on the resource: "
        r"Canceled: Operation was canceled.; CanceledAndSupersededDueToAnother"
        r"Operation: Operation PutRouteOperation \(1\)",
    ):
        _router(settings_arm, RouteTableRouting(**R.routing("route-table"))).apply(100)


def test_a_plainly_cancelled_operation_says_so(arm, settings_arm):
    arm.seed(R.security_group())
    arm.fail_operation(
        "/securityRules/deny-migration-team", "Canceled", code="Canceled", message="Operation was canceled."
    )
    with pytest.raises(
        RoutingError,
        match=r"security rule deny-migration-team of network security group .*: "
        r"the operation was canceled: Canceled: Operation was canceled\.$",
    ):
        access_revoker(lambda: None, settings_arm).revoke("wave-1", RevokeAccess(**R.revoke_access()))
    assert "deny-migration-team" not in {r["name"] for r in arm.get(NSG)["properties"]["securityRules"]}


# -- Front Door --------------------------------------------------------------------------------------------------
def _origins(arm) -> dict[str, tuple[str, int]]:
    return {
        name: (
            arm.get(f"{GROUP}/origins/{name}")["properties"]["enabledState"],
            arm.get(f"{GROUP}/origins/{name}")["properties"]["weight"],
        )
        for name in ("payroll-onprem", "payroll-azure", "payroll-standby")
    }


def _seed_front_door(arm, **changes):
    for doc in R.front_door():
        if doc["name"] in changes:
            doc["properties"].update(changes[doc["name"]])
        arm.seed(doc)


def test_front_door_weights_realise_exact_shares(arm, settings_arm):
    _seed_front_door(arm)
    router = _router(settings_arm, FrontDoorRouting(**R.routing("front-door")))
    assert router.read() == 0
    seen = {}
    for percent in (10, 50, 100, 0):
        changes = router.apply(percent)
        assert changes and router.read() == percent
        seen[percent] = _origins(arm)
    assert seen[10]["payroll-azure"] == ("Enabled", 10) and seen[10]["payroll-onprem"] == ("Enabled", 90)
    assert seen[50]["payroll-azure"] == ("Enabled", 50) and seen[50]["payroll-onprem"] == ("Enabled", 50)
    assert seen[100]["payroll-onprem"][0] == "Disabled" and seen[100]["payroll-azure"] == ("Enabled", 50)
    assert seen[0]["payroll-azure"][0] == "Disabled" and seen[0]["payroll-onprem"] == ("Enabled", 50)
    assert all(s["payroll-standby"] == ("Enabled", 1000) for s in seen.values())  # priority 2: untouched
    patches = [r for r in arm.log if r.method == "PATCH"]
    assert all(set(p.body["properties"]) <= {"enabledState", "weight"} for p in patches)
    assert all(p.status == 202 for p in patches)


def test_front_door_counts_other_enabled_origins_of_the_same_priority(arm, settings_arm):
    _seed_front_door(arm, **{"payroll-standby": {"priority": 1, "weight": 100}})
    router = _router(settings_arm, FrontDoorRouting(**R.routing("front-door")))
    assert router.read() == 0
    with pytest.raises(
        RoutingError,
        match=r"origin group og-payroll of Front Door profile afd-payroll .*: refused "
        r"before any change: 10% would really be 5% .*payroll-standby \(weight 100\)",
    ):
        router.apply(10)
    assert arm.writes() == []


def test_front_door_failed_update_names_the_origin(arm, settings_arm):
    _seed_front_door(arm)
    arm.fail_operation("/origins/payroll-azure", "Failed", code="BadRequest", message="Origin is being deleted.")
    with pytest.raises(
        RoutingError,
        match=r"origin payroll-azure of origin group og-payroll .*the operation failed: "
        r"BadRequest: Origin is being deleted\.",
    ):
        _router(settings_arm, FrontDoorRouting(**R.routing("front-door"))).apply(10)
    assert _origins(arm)["payroll-azure"] == ("Disabled", 1000)


def test_the_local_resource_manager_refuses_front_door_weights_outside_1_to_1000(arm, settings_arm, credential):
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.cdn import CdnManagementClient
    from azure.mgmt.cdn.models import AFDOriginUpdateParameters

    _seed_front_door(arm)
    cdn = CdnManagementClient(credential, R.SUB, base_url=arm.url, credential_scopes=[f"{arm.url}/.default"])
    for weight in (0, 1001):
        with pytest.raises(HttpResponseError) as bad:
            cdn.afd_origins.begin_update(
                R.RG, "afd-payroll", "og-payroll", "payroll-azure", AFDOriginUpdateParameters(weight=weight)
            ).result()
        assert bad.value.status_code == 400
    assert _origins(arm)["payroll-azure"] == ("Disabled", 1000)


# -- application gateway: flights on one mixed pool ----------------------------------------------------------
AGW = f"{R.NET}/applicationGateways/agw-payroll"
GW_SOURCES = ["192.168.10.4", "192.168.10.5", "payroll1.onprem.contoso.com"]  # on-premises, reached over VPN
GW_TARGETS = ["10.1.1.4", "payroll-azure.contoso.com"]


def _gateway_routing(**extra):
    from shared.domain.plan import ApplicationGatewayRouting

    return ApplicationGatewayRouting(
        **R.routing(
            "application-gateway",
            flight_pool="pool-flight",
            source_addresses=GW_SOURCES,
            target_addresses=GW_TARGETS,
            **extra,
        )
    )


def _gateway_state(arm) -> tuple[str, list[str]]:
    gw = arm.get(AGW)["properties"]
    rule = next(r for r in gw["requestRoutingRules"] if r["name"] == "rule-payroll")
    flight = next(p for p in gw["backendAddressPools"] if p["name"] == "pool-flight")
    return (
        rule["properties"]["backendAddressPool"]["id"].rsplit("/", 1)[-1],
        [a.get("ipAddress") or a.get("fqdn") for a in flight["properties"]["backendAddresses"]],
    )


def test_application_gateway_flights_by_membership_of_one_pool(arm, settings_arm):
    from shared.domain.shares import realisable_share

    arm.seed(R.application_gateway())
    before = arm.get(AGW)
    routing = _gateway_routing()
    assert [realisable_share(routing, p) for p in (10, 25, 50, 100)] == [0, 25, 50, 100]  # 1 of 4, 2 of 4
    router = _router(settings_arm, routing)
    assert router.read() == 0
    seen = []
    for percent in (25, 50, 100, 0):
        arm.clear_log()
        assert router.apply(percent) and router.read() == percent
        [put] = [r for r in arm.log if r.method == "PUT"]
        assert put.headers["If-Match"]
        seen.append(_gateway_state(arm))
    assert seen == [
        ("pool-flight", GW_SOURCES + ["10.1.1.4"]),
        ("pool-flight", GW_SOURCES[:2] + GW_TARGETS),  # 2 sources, 2 targets: round robin gives 50%
        ("pool-azure", GW_TARGETS),
        ("pool-onprem", GW_SOURCES),
    ]
    after = arm.get(AGW)["properties"]
    assert after["requestRoutingRules"][1] == before["properties"]["requestRoutingRules"][1]  # untouched
    assert after["requestRoutingRules"][1]["properties"]["futureFeature"] == {"mode": "preview", "weight": 3}


def test_application_gateway_flight_pool_counts_members_the_plan_does_not_name(arm, settings_arm):
    gateway = R.application_gateway()
    next(p for p in gateway["properties"]["backendAddressPools"] if p["name"] == "pool-flight")["properties"][
        "backendAddresses"
    ] = [{"ipAddress": "10.9.9.9"}]
    arm.seed(gateway)
    router = _router(settings_arm, _gateway_routing())
    with pytest.raises(
        RoutingError,
        match=r"pool pool-flight of application gateway agw-payroll .*refused before "
        r"any change: 50% would really be 40% .*10\.9\.9\.9",
    ):
        router.apply(50)
    assert arm.writes() == []
    assert router.apply(100) and router.read() == 100  # the dedicated target pool is not affected


def test_a_drift_that_cannot_be_reapplied_is_recorded_with_why(arm, arm_stack, release_name):
    from shared.application.drift import check_release
    from shared.domain.plan import validate_plan
    from tests.fakes import event

    arm.seed(R.load_balancer())
    service, store = arm_stack.service, arm_stack.store
    service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "single-step",
                "on_drift": "reapply",
                "workloads": [{"name": "payroll", "assets": ["vm-1"], "routing": R.routing("load-balancer")}],
            }
        )
    )
    for n, (type_, data) in enumerate((("asset-replicated", {"asset": "vm-1"}), ("tests-passed", {}))):
        assert service.handle(event(type_, release_name, "payroll", f"{release_name}-{n}", **data)).outcome == "applied"
    arm.edit(POOL, _add_member(R.MONITOR))  # someone adds a member: 100% is now 80%, and cannot be re-applied
    with pytest.raises(RoutingError, match="payroll: re-applying failed: .*refused before any change"):
        check_release(store, service.routers, release_name, arm_stack.clock.now())
    entry = store.list_history(release_name, "payroll")[-1]
    assert (entry.type, entry.outcome) == ("drift-check", "ignored")
    assert "live 80%, state says 100%" in entry.reason and "re-applying failed" in entry.reason
    assert R.MONITOR in _pool(arm)  # their member is left alone
