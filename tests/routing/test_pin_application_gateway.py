"""application-gateway against the local Resource Manager (shared/adapters/routing/application_gateway.py): the
exact changes a move reports, every refusal's text, and the notes `promote plan --live` shows for a flight pool."""

from __future__ import annotations

import pytest

from shared.adapters.routing import router_factory
from shared.domain.errors import RoutingError
from shared.domain.plan import ApplicationGatewayRouting
from shared.domain.routing import Change
from tests.routing import arm_resources as R

AGW = f"{R.NET}/applicationGateways/agw-payroll"
RULE = "requestRoutingRules/rule-payroll: backendAddressPool"
NAME = "application gateway agw-payroll in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"
SOURCES = ["192.168.10.4", "payroll1.onprem.contoso.com"]
TARGETS = ["10.1.1.4", "payroll-azure.contoso.com"]


def router(settings, **extra):
    routing = ApplicationGatewayRouting(**R.routing("application-gateway", **extra))
    return router_factory(lambda: None, settings)("wave-1", "payroll", routing)


def flight(settings):
    return router(settings, flight_pool="pool-flight", source_addresses=SOURCES, target_addresses=TARGETS)


def edit_rule(arm, **properties):
    arm.edit(AGW, lambda gw: gw["properties"]["requestRoutingRules"][0]["properties"].update(properties))


def test_a_switch_reports_the_rules_pool_before_and_after(arm, settings_arm):
    arm.seed(R.application_gateway())
    gw = router(settings_arm)
    assert gw.describe() == NAME
    assert gw.diff(100) == [Change(NAME, RULE, "backendAddressPools/pool-onprem", "backendAddressPools/pool-azure")]
    assert gw.problems([0, 100]) == []
    assert gw.problems([0, 10, 50, 100]) == [
        f"{NAME}: an application gateway rule realises 0% or 100%, not 10% (add a flight_pool for flights)",
        f"{NAME}: an application gateway rule realises 0% or 100%, not 50% (add a flight_pool for flights)",
    ]
    assert gw.apply(100) == [Change(NAME, RULE, "backendAddressPools/pool-onprem", "backendAddressPools/pool-azure")]
    assert arm.get(AGW)["properties"]["requestRoutingRules"][0]["properties"]["backendAddressPool"] == {
        "id": f"{AGW}/backendAddressPools/pool-azure"
    }
    assert gw.read() == 100 and gw.diff(100) == []
    with pytest.raises(RoutingError) as error:
        gw.apply(30)
    assert str(error.value) == f"{NAME}: an application gateway rule realises 0% or 100%, not 30%"


def test_pool_names_are_compared_without_case(arm, settings_arm):
    arm.seed(R.application_gateway())
    edit_rule(arm, backendAddressPool={"id": f"{AGW}/backendAddressPools/POOL-AZURE/"})
    assert router(settings_arm).read() == 100
    assert router(settings_arm).diff(100) == []


def test_a_rule_that_is_not_there_or_not_basic_or_on_another_pool_is_named(arm, settings_arm):
    arm.seed(R.application_gateway())
    with pytest.raises(RoutingError) as error:
        router(settings_arm, rule="rule-nope").read()
    assert str(error.value) == f"{NAME}: has no request routing rule 'rule-nope'"
    edit_rule(arm, backendAddressPool={"id": f"{AGW}/backendAddressPools/pool-static"})
    with pytest.raises(RoutingError) as error:
        router(settings_arm).read()
    assert str(error.value) == (
        f"{NAME}: rule 'rule-payroll' sends users to pool 'pool-static', "
        "neither the source 'pool-onprem' nor the target 'pool-azure'"
    )
    edit_rule(arm, backendAddressPool=None)
    with pytest.raises(RoutingError) as error:
        router(settings_arm).read()
    assert str(error.value) == (
        f"{NAME}: rule 'rule-payroll' names no backend pool (path-based or redirect rules are not switched by promote)"
    )


def test_a_flight_moves_the_plans_members_and_reports_them(arm, settings_arm):
    arm.seed(R.application_gateway())
    gw = flight(settings_arm)
    members = "backendAddressPools/pool-flight: backendAddresses"
    assert gw.read() == 0
    everyone = "192.168.10.4, payroll1.onprem.contoso.com, 10.1.1.4, payroll-azure.contoso.com (50% target)"
    moved = [
        Change(NAME, RULE, "backendAddressPools/pool-onprem", "backendAddressPools/pool-flight"),
        Change(NAME, members, "(none) (no member)", everyone),
    ]
    assert gw.diff(50) == moved
    assert gw.apply(50) == moved and gw.read() == 50
    pool = next(p for p in arm.get(AGW)["properties"]["backendAddressPools"] if p["name"] == "pool-flight")
    assert pool["properties"]["backendAddresses"] == [
        {"ipAddress": "192.168.10.4"},
        {"fqdn": "payroll1.onprem.contoso.com"},
        {"ipAddress": "10.1.1.4"},
        {"fqdn": "payroll-azure.contoso.com"},
    ]
    assert gw.apply(100) == [
        Change(NAME, RULE, "backendAddressPools/pool-flight", "backendAddressPools/pool-azure"),
        Change(NAME, members, everyone, "10.1.1.4, payroll-azure.contoso.com (100% target)"),  # only the targets
    ]
    assert gw.read() == 100


def test_an_empty_flight_pool_and_a_missing_one_are_named(arm, settings_arm):
    arm.seed(R.application_gateway())
    edit_rule(arm, backendAddressPool={"id": f"{AGW}/backendAddressPools/pool-flight"})
    with pytest.raises(RoutingError) as error:
        flight(settings_arm).read()
    assert str(error.value) == f"{NAME}: pool 'pool-flight' the rule sends users to has no member"
    with pytest.raises(RoutingError) as error:
        router(settings_arm, flight_pool="pool-gone", source_addresses=SOURCES, target_addresses=TARGETS).diff(50)
    assert str(error.value) == f"{NAME}: has no backend pool 'pool-gone'"


def test_the_notes_of_a_flight_pool_name_its_backend_settings_probe_and_affinity(arm, settings_arm):
    gateway = R.application_gateway()
    setting = gateway["properties"]["backendHttpSettingsCollection"][0]["properties"]
    setting.update(cookieBasedAffinity="Enabled", hostName="payroll.contoso.com", probe={"id": f"{AGW}/probes/health"})
    gateway["properties"]["probes"] = [
        {
            "id": f"{AGW}/probes/health",
            "name": "health",
            "type": "Microsoft.Network/applicationGateways/probes",
            "properties": {
                "protocol": "Https",
                "path": "/healthz",
                "interval": 30,
                "timeout": 30,
                "unhealthyThreshold": 3,
            },
        }
    ]
    arm.seed(gateway)
    where = f"pool pool-flight of {NAME}"
    assert flight(settings_arm).notes([0, 100]) == []  # no mixed share: nothing to say
    assert router(settings_arm).notes([50]) == []  # no flight pool
    assert flight(settings_arm).notes([0, 50, 100]) == [
        f"{where}: both sides are reached with backend settings https (Https, port 443), Host payroll.contoso.com "
        "for both; the migrated system must answer there as the source does",
        f"{where}: one health probe for both sides, probe health (path /healthz, host from the backend settings): "
        "a member that fails it gets no requests, so a share is a share of the healthy members (the gateway's "
        "backend health shows them)",
        f"{where}: cookie-based affinity is enabled on backend settings https: a client keeps the member of its "
        "first request, so a flight's share applies to new clients only; clients move when their member leaves "
        "the pool or fails its probe",
    ]


def test_the_notes_say_how_the_host_is_chosen_and_name_the_default_probe(arm, settings_arm):
    gateway = R.application_gateway()
    gateway["properties"]["backendHttpSettingsCollection"][0]["properties"]["pickHostNameFromBackendAddress"] = True
    arm.seed(gateway)
    where = f"pool pool-flight of {NAME}"
    notes = flight(settings_arm).notes([50])
    assert notes == [
        f"{where}: both sides are reached with backend settings https (Https, port 443), host name taken from each "
        "member's address: members given by IP (192.168.10.4, 10.1.1.4) get their address as Host; the migrated "
        "system must answer there as the source does",
        f"{where}: one health probe for both sides, the default probe (path /): a member that fails it gets no "
        "requests, so a share is a share of the healthy members (the gateway's backend health shows them)",
    ]
    arm.edit(
        AGW,
        lambda gw: gw["properties"]["backendHttpSettingsCollection"][0]["properties"].update(
            pickHostNameFromBackendAddress=False
        ),
    )
    assert flight(settings_arm).notes([50])[0] == (
        f"{where}: both sides are reached with backend settings https (Https, port 443), the client's Host header "
        "passed on; the migrated system must answer there as the source does"
    )
    fqdn_only = router(
        settings_arm, flight_pool="pool-flight", source_addresses=["a.contoso.com"], target_addresses=["b.contoso.com"]
    )
    arm.edit(
        AGW,
        lambda gw: gw["properties"]["backendHttpSettingsCollection"][0]["properties"].update(
            pickHostNameFromBackendAddress=True
        ),
    )
    assert ", host name taken from each member's address; the migrated" in fqdn_only.notes([50])[0]
    edit_rule(arm, backendHttpSettings={"id": f"{AGW}/backendHttpSettingsCollection/gone"})
    assert flight(settings_arm).notes([50]) == []  # settings it cannot find: nothing to say
