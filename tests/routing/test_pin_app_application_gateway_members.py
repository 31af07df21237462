"""application-gateway's flight pool with members the plan does not name (application_gateway.py): they count
in the true share read back, and a refusal names each, one without an address as `?`."""

from __future__ import annotations

from shared.adapters.routing import router_factory
from shared.domain.plan import ApplicationGatewayRouting
from tests.routing import arm_resources as R

AGW = f"{R.NET}/applicationGateways/agw-payroll"
NAME = "application gateway agw-payroll in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"


def test_foreign_members_count_in_the_true_share_and_are_named(arm, settings_arm):
    gateway = R.application_gateway()
    gateway["properties"]["requestRoutingRules"][0]["properties"]["backendAddressPool"] = {
        "id": f"{AGW}/backendAddressPools/pool-flight"
    }
    pool = next(p for p in gateway["properties"]["backendAddressPools"] if p["name"] == "pool-flight")
    pool["properties"]["backendAddresses"] = [{"ipAddress": "192.168.10.4"}, {"ipAddress": "10.1.1.4"},
                                              {"ipAddress": "10.9.9.9"}, {}]  # fmt: skip
    arm.seed(gateway)
    routing = ApplicationGatewayRouting(
        **R.routing("application-gateway", flight_pool="pool-flight", source_addresses=["192.168.10.4"],
                    target_addresses=["10.1.1.4"])
    )  # fmt: skip
    gw = router_factory(lambda: None, settings_arm)("wave-1", "payroll", routing)
    assert gw.read() == 25  # one target of four members
    assert gw.problems([50]) == [
        f"pool pool-flight of {NAME}: refused before any change: 50% would really be 25% of the traffic, because "
        "members the plan does not name also receive it: 10.9.9.9, ?; remove or disable them, or name them in the plan"
    ]
