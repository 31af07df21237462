"""infra/modules/edge-access.bicep: the edge providers' rights, least privilege on each named zone and policy."""

from __future__ import annotations

from tests.infra.test_infra import MODULES, bicep, main_modules, module_params, role_assignments

PATH = MODULES / "edge-access.bicep"


def test_edge_rights_are_granted_on_each_zone_and_policy_only():
    got = {(symbol, scope) for symbol, _, scope in role_assignments(PATH)}
    assert got == {
        ("privateZoneAssignment", "Microsoft.Network/privateDnsZones"),
        ("publicZoneAssignment", "Microsoft.Network/dnsZones"),
        ("policyAssignment", "Microsoft.Network/firewallPolicies"),
    }
    assert bicep(PATH)["globals"]["scope"]["value"] == "resourceGroup"
    assert {"principalId", "privateDnsZoneNames", "dnsZoneNames", "firewallPolicyNames"} <= set(module_params(PATH))
    assert "edgeAccess" not in main_modules(), "edge rights are a separate deployment, like routing-access"


def test_edge_roles_hold_only_the_actions_the_providers_use():
    variables = bicep(PATH)["variables"]
    dns, firewall = variables["dnsActions"]["value"], variables["firewallActions"]["value"]
    for action in dns + firewall:
        assert "*" not in action and not action.endswith("/delete"), action
        assert action.startswith("Microsoft.Network/"), action
    assert all(a.split("/")[1] in ("privateDnsZones", "dnsZones") for a in dns)
    assert {f"Microsoft.Network/{zone}/{kind}/write" for zone in ("privateDnsZones", "dnsZones")
            for kind in ("A", "AAAA", "CNAME")} <= set(dns)  # fmt: skip
    assert not any(a.endswith(("Zones/write", "/SOA/write", "/NS/write")) for a in dns)  # no zone or apex writes
    assert "Microsoft.Network/firewallPolicies/ruleCollectionGroups/write" in firewall
    assert "Microsoft.Network/firewallPolicies/write" not in firewall  # the policy itself is not changed
