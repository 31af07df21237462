"""application-gateway's flight pool in a diff (shared/adapters/routing/application_gateway.py `_live`,
`_diff`): the members the plan does not name show on both sides of the pool's change, and a pool already as
wanted is no change, against the local Resource Manager."""

from __future__ import annotations

from shared.adapters.routing import router_factory
from shared.domain.plan import ApplicationGatewayRouting
from shared.domain.routing import Change
from tests.routing import arm_resources as R

AGW = f"{R.NET}/applicationGateways/agw-payroll"
WHAT = "application gateway agw-payroll in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"
RULE = "requestRoutingRules/rule-payroll: backendAddressPool"
POOL = "backendAddressPools/pool-flight: backendAddresses"


def gateway_with_a_foreign_member(arm, settings):
    gateway = R.application_gateway()
    gateway["properties"]["requestRoutingRules"][0]["properties"]["backendAddressPool"] = {
        "id": f"{AGW}/backendAddressPools/pool-flight"
    }
    pool = next(p for p in gateway["properties"]["backendAddressPools"] if p["name"] == "pool-flight")
    pool["properties"]["backendAddresses"] = [{"ipAddress": "192.168.10.4"}, {"ipAddress": "10.9.9.9"}]
    arm.seed(gateway)
    routing = ApplicationGatewayRouting(
        **R.routing("application-gateway", flight_pool="pool-flight", source_addresses=["192.168.10.4"],
                    target_addresses=["10.1.1.4"])
    )  # fmt: skip
    return router_factory(lambda: None, settings)("wave-1", "payroll", routing)


def test_a_flight_pool_with_a_foreign_member_changes_only_what_differs(arm, settings_arm):
    gw = gateway_with_a_foreign_member(arm, settings_arm)
    # at 0% the pool keeps its members (the source and the foreign one): only the rule moves
    assert gw.diff(0) == [Change(WHAT, RULE, "backendAddressPools/pool-flight", "backendAddressPools/pool-onprem")]
    assert gw.diff(100) == [
        Change(WHAT, RULE, "backendAddressPools/pool-flight", "backendAddressPools/pool-azure"),
        Change(WHAT, POOL, "192.168.10.4 + not in the plan: 10.9.9.9 (0% target)",
               "10.1.1.4 + not in the plan: 10.9.9.9 (50% target)"),
    ]  # fmt: skip
