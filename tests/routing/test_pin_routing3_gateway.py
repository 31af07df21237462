"""application-gateway against the local Resource Manager (shared/adapters/routing/application_gateway.py):
the flight pool in a diff (`_live`, `_diff`: the members the plan does not name show on both sides of the
pool's change, and a pool already as wanted is no change); moves to 0% or 100% that need no flight pool and
a foreign member's refusal (`_refusal`); a pool's name read whole from the rule's reference (`_pool_name`);
the plan's members that stay kept in place, matched without case (`_attempt`)."""

from __future__ import annotations

import json

from shared.adapters.routing import router_factory
from shared.domain.plan import ApplicationGatewayRouting
from shared.domain.routing import Change
from tests.routing import arm_resources as R

AGW = f"{R.NET}/applicationGateways/agw-payroll"
WHAT = "application gateway agw-payroll in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"
RULE = "requestRoutingRules/rule-payroll: backendAddressPool"
POOL = "backendAddressPools/pool-flight: backendAddresses"


def gateway_with_a_foreign_member(arm, settings, sources=("192.168.10.4",)):
    gateway = R.application_gateway()
    gateway["properties"]["requestRoutingRules"][0]["properties"]["backendAddressPool"] = {
        "id": f"{AGW}/backendAddressPools/pool-flight"
    }
    pool = next(p for p in gateway["properties"]["backendAddressPools"] if p["name"] == "pool-flight")
    pool["properties"]["backendAddresses"] = [{"ipAddress": "192.168.10.4"}, {"ipAddress": "10.9.9.9"}]
    arm.seed(gateway)
    routing = ApplicationGatewayRouting(
        **R.routing("application-gateway", flight_pool="pool-flight", source_addresses=list(sources),
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


def test_moves_to_0_or_100_need_no_flight_pool_in_the_gateway(arm, settings_arm):
    gateway = R.application_gateway()
    pools = gateway["properties"]["backendAddressPools"]
    pools[:] = [p for p in pools if p["name"] != "pool-flight"]
    arm.seed(gateway)
    routing = ApplicationGatewayRouting(
        **R.routing("application-gateway", flight_pool="pool-flight", source_addresses=["192.168.10.4"],
                    target_addresses=["10.1.1.4"])
    )  # fmt: skip
    gw = router_factory(lambda: None, settings_arm)("wave-1", "payroll", routing)
    assert gw.problems([0, 100]) == []


def test_a_pool_whose_name_ends_in_a_capital_x_is_read_by_its_whole_name(arm, settings_arm):
    arm.seed(json.loads(json.dumps(R.application_gateway()).replace("pool-azure", "pool-AX")))
    routing = ApplicationGatewayRouting(**R.routing("application-gateway", target_pool="pool-AX"))
    gw = router_factory(lambda: None, settings_arm)("wave-1", "payroll", routing)
    assert gw.read() == 0
    gw.apply(100)
    assert gw.read() == 100


def test_a_foreign_member_refuses_a_share_it_distorts_and_names_the_share_it_would_be(arm, settings_arm):
    # two sources and a target: 33% is both sources and the target, 25% with the foreign member among them
    gw = gateway_with_a_foreign_member(arm, settings_arm, sources=("192.168.10.4", "192.168.10.5"))
    assert gw.problems([33]) == [
        f"pool pool-flight of {WHAT}: refused before any change: 33% would really be 25% of the traffic, because "
        "members the plan does not name also receive it: 10.9.9.9; remove or disable them, or name them in the plan"
    ]


def test_a_foreign_member_refuses_nothing_where_the_share_is_what_it_would_be_anyway(arm, settings_arm):
    # one source and one target: 1% is the source alone, 0% whoever else is in the pool
    assert gateway_with_a_foreign_member(arm, settings_arm).problems([1]) == []


def test_a_move_leaves_the_plans_members_that_stay_where_they_are_in_the_pool(arm, settings_arm):
    """Members are matched without case (FQDNs): one that stays is kept in place, not removed and re-added."""
    gateway = R.application_gateway()
    gateway["properties"]["requestRoutingRules"][0]["properties"]["backendAddressPool"] = {
        "id": f"{AGW}/backendAddressPools/pool-flight"
    }
    pool = next(p for p in gateway["properties"]["backendAddressPools"] if p["name"] == "pool-flight")
    pool["properties"]["backendAddresses"] = [{"fqdn": "b.onprem.contoso.com"}, {"fqdn": "A.OnPrem.contoso.com"}]
    arm.seed(gateway)
    routing = ApplicationGatewayRouting(
        **R.routing("application-gateway", flight_pool="pool-flight", target_addresses=["10.1.1.4"],
                    source_addresses=["a.onprem.contoso.com", "b.onprem.contoso.com"])
    )  # fmt: skip
    gw = router_factory(lambda: None, settings_arm)("wave-1", "payroll", routing)
    assert gw.read() == 0
    gw.apply(33)
    pool = next(p for p in arm.get(AGW)["properties"]["backendAddressPools"] if p["name"] == "pool-flight")
    assert pool["properties"]["backendAddresses"] == [
        {"fqdn": "b.onprem.contoso.com"},
        {"fqdn": "A.OnPrem.contoso.com"},
        {"ipAddress": "10.1.1.4"},
    ]
    assert gw.read() == 33
