"""application-gateway's flight pool on a move (shared/adapters/routing/application_gateway.py `_attempt`): the
members the plan does not name stay in the pool, the plan's are set to the share, against the local Resource
Manager."""

from __future__ import annotations

from shared.adapters.routing import router_factory
from shared.domain.plan import ApplicationGatewayRouting
from tests.routing import arm_resources as R

AGW = f"{R.NET}/applicationGateways/agw-payroll"


def members(arm) -> list[dict]:
    pool = next(p for p in arm.get(AGW)["properties"]["backendAddressPools"] if p["name"] == "pool-flight")
    return pool["properties"]["backendAddresses"]


def test_a_move_keeps_the_members_the_plan_does_not_name(arm, settings_arm):
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
    gw = router_factory(lambda: None, settings_arm)("wave-1", "payroll", routing)
    assert gw.read() == 0
    gw.apply(100)
    assert members(arm) == [{"ipAddress": "10.9.9.9"}, {"ipAddress": "10.1.1.4"}]
