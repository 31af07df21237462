"""application-gateway's notes for a flight pool (shared/adapters/routing/application_gateway.py), against the
local Resource Manager: the smallest mixed share (1%) gets them, the rule's backend settings are found by an id
written with a trailing slash (and a name ending in capitals), and a rule without backend settings gets none."""

from __future__ import annotations

from shared.adapters.routing import router_factory
from shared.domain.plan import ApplicationGatewayRouting
from tests.routing import arm_resources as R

AGW = f"{R.NET}/applicationGateways/agw-payroll"
NAME = "application gateway agw-payroll in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"
WHERE = f"pool pool-flight of {NAME}"


def flight(settings):
    routing = ApplicationGatewayRouting(
        **R.routing("application-gateway", flight_pool="pool-flight", source_addresses=["a.contoso.com"],
                    target_addresses=["b.contoso.com"])
    )  # fmt: skip
    return router_factory(lambda: None, settings)("wave-1", "payroll", routing)


def test_a_one_percent_flight_is_noted_with_settings_found_by_an_id_with_a_trailing_slash(arm, settings_arm):
    gateway = R.application_gateway()
    setting = gateway["properties"]["backendHttpSettingsCollection"][0]
    setting["name"], setting["id"] = "tls-MAX", f"{AGW}/backendHttpSettingsCollection/tls-MAX"
    for rule in gateway["properties"]["requestRoutingRules"]:
        rule["properties"]["backendHttpSettings"] = {"id": f"{AGW}/backendHttpSettingsCollection/tls-MAX/"}
    arm.seed(gateway)
    assert flight(settings_arm).notes([0, 1, 100]) == [
        f"{WHERE}: both sides are reached with backend settings tls-MAX (Https, port 443), the client's Host header "
        "passed on; the migrated system must answer there as the source does",
        f"{WHERE}: one health probe for both sides, the default probe (path /): a member that fails it gets no "
        "requests, so a share is a share of the healthy members (the gateway's backend health shows them)",
    ]
    assert flight(settings_arm).notes([0, 100]) == []


def test_a_rule_without_backend_settings_gets_no_notes(arm, settings_arm):
    gateway = R.application_gateway()
    for rule in gateway["properties"]["requestRoutingRules"]:
        del rule["properties"]["backendHttpSettings"]
    arm.seed(gateway)
    assert flight(settings_arm).notes([0, 50, 100]) == []
