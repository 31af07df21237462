"""An Azure Firewall DNAT rule's settings at a share (shared/domain/edge.py `firewall_settings`): the translated
address and the destination addresses of each network rule that follows it, in full, on both sides of 100%,
and the changes `promote plan` shows for the move (shared/domain/routing.py)."""

from __future__ import annotations

from shared.domain import edge
from shared.domain.plan import AzureFirewallRouting
from shared.domain.plan.routing import ROUTING
from shared.domain.routing import Change, changes, settings

SUB = "00000000-0000-0000-0000-000000000001"
POLICY = f"/subscriptions/{SUB}/resourceGroups/rg-fw/providers/Microsoft.Network/firewallPolicies/fw-policy"
NAT = "ruleCollectionGroups/g-edge/c-dnat/r-web: translatedAddress"
NET_A = "ruleCollectionGroups/g-edge/c-net/allow-web: destinationAddresses"
NET_B = "ruleCollectionGroups/g-edge/c-other/allow-api: destinationAddresses"
WHERE = f"firewall policy fw-policy in rg-fw (subscription {SUB})"


def _firewall(**fields) -> AzureFirewallRouting:
    section = {
        "provider": "azure-firewall",
        "policy": POLICY,
        "rule_collection_group": "g-edge",
        "rule_collection": "c-dnat",
        "rule": "r-web",
        "source": "10.0.0.1",
        "target": "10.1.0.1",
        "network_rules": [
            {"rule_collection": "c-net", "rule": "allow-web"},
            {"rule_collection": "c-other", "rule": "allow-api"},
        ],
        **fields,
    }
    routing = ROUTING.validate_python(section)
    assert isinstance(routing, AzureFirewallRouting)
    return routing


def test_at_100_percent_every_rule_points_at_the_target():
    assert edge.firewall_settings(_firewall(), 100) == {NAT: "10.1.0.1", NET_A: "10.1.0.1", NET_B: "10.1.0.1"}


def test_below_100_percent_every_rule_points_at_the_source():
    assert edge.firewall_settings(_firewall(), 0) == {NAT: "10.0.0.1", NET_A: "10.0.0.1", NET_B: "10.0.0.1"}
    assert edge.firewall_settings(_firewall(), 99) == {NAT: "10.0.0.1", NET_A: "10.0.0.1", NET_B: "10.0.0.1"}


def test_a_dnat_rule_without_network_rules_sets_only_its_translated_address():
    assert edge.firewall_settings(_firewall(network_rules=[]), 100) == {NAT: "10.1.0.1"}
    assert edge.firewall_settings(_firewall(network_rules=[]), 0) == {NAT: "10.0.0.1"}


def test_settings_of_a_firewall_routing_are_its_firewall_settings():
    assert settings(_firewall(network_rules=[{"rule_collection": "c-net", "rule": "allow-web"}]), 100) == {
        NAT: "10.1.0.1",
        NET_A: "10.1.0.1",
    }


def test_the_cutover_changes_of_a_firewall_routing_in_full():
    assert changes(_firewall(), 0, 100, "r1", "web") == [
        Change(WHERE, NAT, "10.0.0.1", "10.1.0.1"),
        Change(WHERE, NET_A, "10.0.0.1", "10.1.0.1"),
        Change(WHERE, NET_B, "10.0.0.1", "10.1.0.1"),
    ]
    assert changes(_firewall(), 100, 0, "r1", "web") == [
        Change(WHERE, NAT, "10.1.0.1", "10.0.0.1"),
        Change(WHERE, NET_A, "10.1.0.1", "10.0.0.1"),
        Change(WHERE, NET_B, "10.1.0.1", "10.0.0.1"),
    ]
