"""azure-firewall's diff texts and front-door's defaults for what Azure may leave out, against the local
Resource Manager (shared/adapters/routing/azure_firewall.py, front_door.py)."""

from __future__ import annotations

import pytest

from shared.adapters.routing import router_factory
from shared.domain.errors import RoutingError
from shared.domain.plan import AzureFirewallRouting, FrontDoorRouting
from tests.routing import arm_resources as R
from tests.routing.test_pin_app_front_door import GROUP, seed

WHAT = (
    "rule collection group migration of firewall policy fw-pol in rg-payroll-net (subscription "
    "00000000-0000-0000-0000-0000000000a1)"
)


def firewall(arm, settings, *, change=None, **extra):
    for doc in R.firewall_policy():
        if doc["name"] == "migration" and change:
            change(doc)
        arm.seed(doc)
    return router_factory(lambda: None, settings)(
        "wave-1", "payroll", AzureFirewallRouting(**R.routing("azure-firewall", **extra))
    )


def rules(doc, collection):
    return next(c for c in doc["properties"]["ruleCollections"] if c["name"] == collection)["rules"]


def test_a_firewall_at_its_source_needs_no_change_to_stay_there(arm, settings_arm):
    fw = firewall(arm, settings_arm)
    assert fw.read() == 0
    assert fw.diff(0) == []


def test_a_dnat_rule_without_a_translated_address_is_changed_from_none(arm, settings_arm):
    fw = firewall(arm, settings_arm, change=lambda d: rules(d, "dnat-payroll")[0].pop("translatedAddress"))
    assert [(c.before, c.after) for c in fw.diff(100)] == [
        ("(none)", "10.20.0.4"),
        ("10.1.0.4 + not in the plan: 10.9.9.9", "10.20.0.4 + not in the plan: 10.9.9.9"),
    ]


def test_a_network_rule_with_no_destination_address_is_named_as_none(arm, settings_arm):
    fw = firewall(
        arm,
        settings_arm,
        change=lambda d: rules(d, "net-payroll")[1].update(destinationAddresses=[]),
        network_rules=[{"rule_collection": "net-payroll", "rule": "dns"}],
    )
    with pytest.raises(RoutingError) as error:
        fw.diff(100)
    assert str(error.value) == (
        f"{WHAT}: network rule dns of net-payroll names neither 10.1.0.4 nor 10.20.0.4 in its destination "
        "addresses (none)"
    )


def test_a_network_rule_naming_neither_address_lists_all_of_its_addresses(arm, settings_arm):
    fw = firewall(
        arm,
        settings_arm,
        change=lambda d: rules(d, "net-payroll")[1].update(destinationAddresses=["10.0.0.53", "10.0.0.54"]),
        network_rules=[{"rule_collection": "net-payroll", "rule": "dns"}],
    )
    with pytest.raises(RoutingError) as error:
        fw.diff(100)
    assert str(error.value).endswith("in its destination addresses (10.0.0.53, 10.0.0.54)")


def front_door(settings):
    return router_factory(lambda: None, settings)("wave-1", "payroll", FrontDoorRouting(**R.routing("front-door")))


def test_an_origin_without_a_priority_is_of_priority_one_and_better_than_two(arm, settings_arm):
    seed(arm, payroll_onprem={"priority": 2}, payroll_azure={"priority": 2},
         payroll_standby={"priority": None, "enabledState": "Enabled"})  # fmt: skip
    assert front_door(settings_arm).problems([0, 40]) == [
        f"{GROUP}: refused before any change: 40% would really be 0% of the traffic, because origin "
        "payroll-standby has priority 1, better than the plan's origins (2): Front Door sends it every request "
        "while it is healthy; disable it or give it a worse priority"
    ]


def test_an_origin_without_an_enabled_state_is_enabled(arm, settings_arm):
    """Azure's default enabledState is Enabled: a third origin without one takes its weight's part."""
    seed(arm, payroll_onprem={"priority": 1, "weight": 500},
         payroll_azure={"priority": 1, "weight": 500, "enabledState": "Enabled"},
         payroll_standby={"priority": 1, "weight": 1000, "enabledState": None})  # fmt: skip
    assert front_door(settings_arm).read() == 25


def test_a_group_without_load_balancing_settings_has_a_band_of_zero(arm, settings_arm):
    for doc in R.front_door():
        if doc["name"] == "og-payroll":
            doc["properties"].pop("loadBalancingSettings")
        arm.seed(doc)
    door = front_door(settings_arm)
    assert door.notes([0, 10, 100]) == []
    [refusal] = door.problems([0, 10, 100])
    assert refusal.startswith(f"{GROUP}: 10% is not a share Front Door keeps: loadBalancingSettings")
