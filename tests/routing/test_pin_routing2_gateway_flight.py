"""application-gateway's flight pool on a move (shared/adapters/routing/application_gateway.py `_attempt`): the
members the plan does not name stay in the pool, the plan's are set to the share, against the local Resource
Manager."""

from __future__ import annotations

from tests.routing import arm_resources as R
from tests.routing.test_pin_routing3_gateway import gateway_with_a_foreign_member

AGW = f"{R.NET}/applicationGateways/agw-payroll"


def members(arm) -> list[dict]:
    pool = next(p for p in arm.get(AGW)["properties"]["backendAddressPools"] if p["name"] == "pool-flight")
    return pool["properties"]["backendAddresses"]


def test_a_move_keeps_the_members_the_plan_does_not_name(arm, settings_arm):
    gw = gateway_with_a_foreign_member(arm, settings_arm)
    assert gw.read() == 0
    gw.apply(100)
    assert members(arm) == [{"ipAddress": "10.9.9.9"}, {"ipAddress": "10.1.1.4"}]
