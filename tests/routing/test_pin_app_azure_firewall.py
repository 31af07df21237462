"""azure-firewall's refusals (shared/adapters/routing/azure_firewall.py) when Azure holds nothing where promote
reads: a DNAT rule without a translated address, a network rule without destination addresses."""

from __future__ import annotations

import pytest

from shared.adapters.routing import router_factory
from shared.domain.errors import RoutingError
from shared.domain.plan import AzureFirewallRouting
from tests.routing import arm_resources as R

WHAT = (
    "rule collection group migration of firewall policy fw-pol in rg-payroll-net (subscription "
    "00000000-0000-0000-0000-0000000000a1)"
)


def read(settings) -> str:
    fw = router_factory(lambda: None, settings)(
        "wave-1", "payroll", AzureFirewallRouting(**R.routing("azure-firewall"))
    )
    with pytest.raises(RoutingError) as error:
        fw.read()
    return str(error.value)


def test_a_dnat_rule_without_a_translated_address_is_named(arm, settings_arm):
    for doc in R.firewall_policy():
        arm.seed(doc)
    arm.edit(R.RCG, lambda g: g["properties"]["ruleCollections"][0]["rules"][0].pop("translatedAddress"))
    assert read(settings_arm) == (
        f"{WHAT}: rule https translates to no address, neither the source 10.1.0.4 nor the target 10.20.0.4"
    )


def test_a_network_rule_without_destination_addresses_is_named(arm, settings_arm):
    for doc in R.firewall_policy():
        arm.seed(doc)
    arm.edit(R.RCG, lambda g: g["properties"]["ruleCollections"][1]["rules"][0].pop("destinationAddresses"))
    assert read(settings_arm) == (
        f"{WHAT}: rule https translates to 10.1.0.4 but network rule sql of net-payroll has destination addresses "
        "(none): changed by someone else"
    )
