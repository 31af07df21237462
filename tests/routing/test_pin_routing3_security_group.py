"""revoke_access on a network security group against the local Resource Manager
(shared/adapters/routing/network_security_group.py): the deny rule's PUT as sent, promote's own rule never
counted against itself (its priority, or an Allow someone made of it), an Allow from an application security
group read as no problem, an earlier Allow named with each of its port ranges, and a 403 on the group's read
naming the permission."""

from __future__ import annotations

import pytest

from shared.adapters.routing import access_revoker
from shared.domain.errors import RoutingError
from shared.domain.plan import RevokeAccess
from shared.domain.routing import Change
from tests.routing import arm_resources as R

NSG = "network security group nsg-payroll in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"
NEEDS = (
    "access denied (403); the identity needs Microsoft.Network/networkSecurityGroups/read and "
    "Microsoft.Network/networkSecurityGroups/securityRules/read and /write on the network security group: "
    "AuthorizationFailed: injected 403"
)


def test_the_deny_rule_is_put_with_its_name_and_every_property_promote_sets(arm, settings_arm):
    arm.seed(R.security_group())
    config = RevokeAccess(**R.revoke_access(source_prefixes=["10.50.0.0/24", "10.60.0.4"]))
    arm.clear_log()
    access_revoker(lambda: None, settings_arm).revoke("wave-1", config)
    [put] = [r for r in arm.log if r.method == "PUT"]
    assert put.path.endswith("/networkSecurityGroups/nsg-payroll/securityRules/deny-migration-team")
    assert put.body == {
        "name": "deny-migration-team",
        "properties": {
            "description": "promote: the migration team's access, revoked at promotion of wave-1",
            "protocol": "*",
            "sourcePortRange": "*",
            "destinationPortRange": "*",
            "sourceAddressPrefixes": ["10.50.0.0/24", "10.60.0.4"],
            "destinationAddressPrefix": "*",
            "access": "Deny",
            "priority": 100,
            "direction": "Inbound",
        },
    }


@pytest.mark.parametrize("rule", ["deny-migration-team", "Deny-Migration-Team"])
def test_promotes_own_rule_in_place_holds_its_priority_without_a_problem(arm, settings_arm, rule):
    """Azure keeps a rule's name as it was created; promote's own is found whatever its case."""
    arm.seed(R.security_group())
    revoker = access_revoker(lambda: None, settings_arm)
    revoker.revoke("wave-1", RevokeAccess(**R.revoke_access(rule=rule)))
    config = RevokeAccess(**R.revoke_access(rule="deny-migration-team"))
    assert revoker.problems("wave-1", config) == []
    assert revoker.revoke("wave-1", config) == []  # in place: nothing written


def test_a_403_on_the_groups_read_names_the_group_and_the_permission(arm, settings_arm):
    arm.seed(R.security_group())
    arm.fail("GET", "networksecuritygroups/nsg-payroll", 403, times=10)
    with pytest.raises(RoutingError) as error:
        access_revoker(lambda: None, settings_arm).problems("wave-1", RevokeAccess(**R.revoke_access()))
    assert str(error.value) == f"{NSG}: {NEEDS}"


def test_promotes_own_rule_found_allowing_the_team_earlier_is_rewritten_not_refused(arm, settings_arm):
    """Someone turned promote's rule into an Allow of the team before promote's priority: it is promote's rule
    to put back, not an earlier Allow that keeps the team in."""
    group = R.security_group()
    allow = group["properties"]["securityRules"][0]
    own = {**allow, "id": allow["id"].replace("allow-https", "deny-migration-team"), "name": "deny-migration-team"}
    own["properties"] = {**allow["properties"], "sourceAddressPrefix": "10.50.0.0/24", "priority": 150}
    group["properties"]["securityRules"].append(own)
    arm.seed(group)
    revoker = access_revoker(lambda: None, settings_arm)
    config = RevokeAccess(**R.revoke_access(priority=180))
    assert revoker.problems("wave-1", config) == []
    assert revoker.revoke("wave-1", config) == [
        Change(NSG, "securityRules/deny-migration-team",
               "Allow inbound from 10.50.0.0/24, protocol Tcp, port 443, priority 150",
               "Deny inbound from 10.50.0.0/24, any port and protocol, priority 180")
    ]  # fmt: skip


def test_an_allow_from_an_application_security_group_before_promotes_deny_is_no_problem(arm, settings_arm):
    """An application security group holds network interfaces of the virtual network, not a team outside it."""
    group = R.security_group()
    allow = group["properties"]["securityRules"][0]
    asg = f"{R.NET}/applicationSecurityGroups/asg-web"
    web = {**allow, "id": allow["id"].replace("allow-https", "allow-web"), "name": "allow-web"}
    web["properties"] = {**allow["properties"], "priority": 150, "sourceApplicationSecurityGroups": [{"id": asg}]}
    del web["properties"]["sourceAddressPrefix"]
    group["properties"]["securityRules"].append(web)
    arm.seed(group)
    assert (
        access_revoker(lambda: None, settings_arm).problems("wave-1", RevokeAccess(**R.revoke_access(priority=180)))
        == []
    )


def test_an_earlier_allow_of_several_port_ranges_is_named_with_each_of_them(arm, settings_arm):
    group = R.security_group()
    allow = group["properties"]["securityRules"][0]
    web = {**allow, "id": allow["id"].replace("allow-https", "allow-web"), "name": "allow-web"}
    web["properties"] = {**allow["properties"], "priority": 150, "sourceAddressPrefix": "10.50.0.0/16",
                         "destinationPortRanges": ["80", "443"]}  # fmt: skip
    del web["properties"]["destinationPortRange"]
    group["properties"]["securityRules"].append(web)
    arm.seed(group)
    config = RevokeAccess(**R.revoke_access(priority=180))
    assert access_revoker(lambda: None, settings_arm).problems("wave-1", config) == [
        f"{NSG}: inbound rule allow-web (Allow, priority 150, from 10.50.0.0/16, Tcp port 80, 443) is evaluated "
        "before promote's deny at priority 180 and lets the migration team (10.50.0.0/24) in; choose a priority "
        "below 150 (e.g. 149), or narrow that rule"
    ]
