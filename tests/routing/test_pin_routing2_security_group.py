"""revoke_access on a network security group (shared/adapters/routing/network_security_group.py): every refusal
of one revoke in one message, and a 403 on the rule's PUT naming the rule and the permission it needs."""

from __future__ import annotations

import pytest

from shared.adapters.routing import access_revoker
from shared.domain.errors import RoutingError
from shared.domain.plan import RevokeAccess
from tests.routing import arm_resources as R

NSG = "network security group nsg-payroll in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"


def refused(call) -> str:
    with pytest.raises(RoutingError) as error:
        call()
    return str(error.value)


def test_a_revoke_refused_for_several_reasons_names_them_all_separated_by_semicolons(arm, settings_arm):
    group = R.security_group()
    allow = group["properties"]["securityRules"][0]  # allow-https, priority 200: lets the team in before 300
    held = {**allow, "id": allow["id"].replace("allow-https", "deny-other"), "name": "deny-other"}
    held["properties"] = {**allow["properties"], "access": "Deny", "priority": 300}  # holds 300
    group["properties"]["securityRules"].append(held)
    arm.seed(group)
    config = RevokeAccess(**R.revoke_access(priority=300))
    revoker = access_revoker(lambda: None, settings_arm)
    problems = revoker.problems("wave-1", config)
    assert len(problems) == 2
    assert problems[0].startswith(f"{NSG}: revoke_access.priority 300 is already held by inbound rule deny-other;")
    assert problems[1].startswith(f"{NSG}: ") and "allow-https" in problems[1]
    assert refused(lambda: revoker.revoke("wave-1", config)) == f"{problems[0]}; {problems[1]}"


def test_a_403_on_the_rules_put_names_the_rule_and_the_permission(arm, settings_arm):
    arm.seed(R.security_group())
    arm.fail("PUT", "securityrules/deny-migration-team", 403, times=10)
    revoker = access_revoker(lambda: None, settings_arm)
    assert refused(lambda: revoker.revoke("wave-1", RevokeAccess(**R.revoke_access()))) == (
        f"security rule deny-migration-team of {NSG}: access denied (403); the identity needs "
        "Microsoft.Network/networkSecurityGroups/read and Microsoft.Network/networkSecurityGroups/securityRules/read "
        "and /write on the network security group: AuthorizationFailed: injected 403"
    )
