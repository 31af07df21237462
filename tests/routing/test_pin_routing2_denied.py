"""A 403 from the local Resource Manager names the resource promote was touching and the permission it needs,
for each read and write of front-door, azure-firewall and application-gateway (shared/adapters/routing)."""

from __future__ import annotations

import pytest

from shared.adapters.routing import router_factory
from shared.domain.errors import RoutingError
from shared.domain.plan import ApplicationGatewayRouting, AzureFirewallRouting, FrontDoorRouting
from tests.routing import arm_resources as R
from tests.routing.test_routing_true_shares import _seed_front_door

SUB = "(subscription 00000000-0000-0000-0000-0000000000a1)"
GROUP = f"origin group og-payroll of Front Door profile afd-payroll in rg-payroll-net {SUB}"
AFD_NEEDS = (
    "access denied (403); the identity needs Microsoft.Cdn/profiles/originGroups/origins/read and /write on the "
    "profile (and Microsoft.Cdn/operationresults/read to follow the operation): AuthorizationFailed: injected 403"
)
POLICY = f"firewall policy fw-pol in rg-payroll-net {SUB}"
FW_NEEDS = (
    "access denied (403); the identity needs Microsoft.Network/firewallPolicies/read and "
    "Microsoft.Network/firewallPolicies/ruleCollectionGroups/read and /write on the firewall policy: "
    "AuthorizationFailed: injected 403"
)
AGW = f"application gateway agw-payroll in rg-payroll-net {SUB}"
AGW_NEEDS = (
    "access denied (403); the identity needs Microsoft.Network/applicationGateways/read and /write on the gateway, "
    "plus the join actions its PUT re-checks (Microsoft.Network/virtualNetworks/subnets/join/action on its subnet, "
    "Microsoft.Network/publicIPAddresses/join/action on its public IP): AuthorizationFailed: injected 403"
)


def refused(call) -> str:
    with pytest.raises(RoutingError) as error:
        call()
    return str(error.value)


def routers(settings):
    return router_factory(lambda: None, settings)


def test_front_door_names_the_group_or_origin_denied(arm, settings_arm):
    _seed_front_door(arm)
    door = routers(settings_arm)("wave-1", "payroll", FrontDoorRouting(**R.routing("front-door")))
    arm.fail("GET", "origingroups/og-payroll/origins", 403, times=10)
    assert refused(door.read) == f"{GROUP}: {AFD_NEEDS}"
    arm.faults.clear()
    # the group itself (its latency band), read once the origins were listed
    arm.after(
        "GET", "origingroups/og-payroll/origins", lambda a: a.fail("GET", "origingroups/og-payroll", 403, times=10)
    )
    assert refused(lambda: door.notes([10])) == f"{GROUP}: {AFD_NEEDS}"
    arm.faults.clear()
    arm.fail("PATCH", "origins/payroll-azure", 403, times=10)
    assert refused(lambda: door.apply(100)) == f"origin payroll-azure of {GROUP}: {AFD_NEEDS}"


def test_azure_firewall_names_the_policy_or_group_denied(arm, settings_arm):
    for doc in R.firewall_policy():
        arm.seed(doc)
    fw = routers(settings_arm)("wave-1", "payroll", AzureFirewallRouting(**R.routing("azure-firewall")))
    what = f"rule collection group migration of {POLICY}"
    arm.fail("GET", "rulecollectiongroups/migration", 403, times=10)
    assert refused(fw.read) == f"{what}: {FW_NEEDS}"
    arm.faults.clear()
    arm.fail("PUT", "rulecollectiongroups/migration", 403, times=10)
    assert refused(lambda: fw.apply(100)) == f"{what}: {FW_NEEDS}"
    arm.faults.clear()
    arm.fail("GET", "firewallpolicies/fw-pol", 403, times=10)  # the policy's state, read first by a move
    assert refused(lambda: fw.apply(100)) == f"{POLICY}: {FW_NEEDS}"


def test_application_gateway_names_the_gateway_denied_on_its_put(arm, settings_arm):
    arm.seed(R.application_gateway())
    gw = routers(settings_arm)("wave-1", "payroll", ApplicationGatewayRouting(**R.routing("application-gateway")))
    arm.fail("PUT", "applicationgateways/agw-payroll", 403, times=10)
    assert refused(lambda: gw.apply(100)) == f"{AGW}: {AGW_NEEDS}"
