"""azure-firewall against the local Resource Manager (shared/adapters/routing/azure_firewall.py): every refusal
in full."""

from __future__ import annotations

import pytest

from shared.adapters.routing import router_factory
from shared.domain.errors import RoutingError
from shared.domain.plan import AzureFirewallRouting
from tests.routing import arm_resources as R

POLICY = "firewall policy fw-pol in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"
WHAT = f"rule collection group migration of {POLICY}"


def router(settings, **extra):
    return router_factory(lambda: None, settings)(
        "wave-1", "payroll", AzureFirewallRouting(**R.routing("azure-firewall", **extra))
    )


@pytest.fixture
def policy(arm):
    for doc in R.firewall_policy():
        arm.seed(doc)
    return arm


def test_a_dnat_rule_realises_only_0_or_100(policy, settings_arm):
    fw = router(settings_arm)
    assert fw.describe() == WHAT
    assert fw.problems([0, 100, 20]) == [f"{WHAT}: a DNAT rule realises 0% or 100%, not 20%"]
    with pytest.raises(RoutingError) as error:
        fw.apply(99)
    assert str(error.value) == f"{WHAT}: a DNAT rule realises 0% or 100%, not 99%"
    assert policy.writes() == []


def test_a_collection_or_rule_that_is_not_there_is_named(policy, settings_arm):
    with pytest.raises(RoutingError) as error:
        router(settings_arm, rule_collection="dnat-gone").read()
    assert str(error.value) == f"{WHAT}: has no rule collection 'dnat-gone'"
    with pytest.raises(RoutingError) as error:
        router(settings_arm, rule="http").read()
    assert str(error.value) == f"{WHAT}: rule collection 'dnat-payroll' has no NatRule 'http'"
    with pytest.raises(RoutingError) as error:  # a network rule is not a DNAT rule
        router(settings_arm, network_rules=[{"rule_collection": "net-payroll", "rule": "https"}]).read()
    assert str(error.value) == f"{WHAT}: rule collection 'net-payroll' has no NetworkRule 'https'"


def test_a_dnat_rule_to_another_address_and_a_network_rule_out_of_step_are_named(policy, settings_arm):
    policy.edit(R.RCG, lambda g: g["properties"]["ruleCollections"][0]["rules"][0].update(translatedAddress="10.9.0.1"))
    with pytest.raises(RoutingError) as error:
        router(settings_arm).read()
    assert (
        str(error.value)
        == f"{WHAT}: rule https translates to 10.9.0.1, neither the source 10.1.0.4 nor the target 10.20.0.4"
    )
    policy.edit(
        R.RCG, lambda g: g["properties"]["ruleCollections"][0]["rules"][0].update(translatedAddress="10.20.0.4")
    )
    with pytest.raises(RoutingError) as error:
        router(settings_arm).read()
    assert str(error.value) == (
        f"{WHAT}: rule https translates to 10.20.0.4 but network rule sql of net-payroll has destination addresses "
        "10.1.0.4, 10.9.9.9: changed by someone else"
    )


def test_a_network_rule_naming_neither_address_is_refused_in_full(policy, settings_arm):
    with pytest.raises(RoutingError) as error:
        router(settings_arm, network_rules=[{"rule_collection": "net-payroll", "rule": "dns"}]).diff(100)
    assert str(error.value) == (
        f"{WHAT}: network rule dns of net-payroll names neither 10.1.0.4 nor 10.20.0.4 in its destination "
        "addresses (10.0.0.53)"
    )
