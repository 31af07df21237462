"""revoke_access on a network security group (shared/adapters/routing/network_security_group.py): the change
it reports and a priority already held, in full."""

from __future__ import annotations

import pytest

from shared.adapters.routing import access_revoker
from shared.domain.errors import RoutingError
from shared.domain.plan import RevokeAccess
from shared.domain.routing import Change
from tests.routing import arm_resources as R

NSG = "network security group nsg-payroll in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"


def test_the_deny_rule_added_is_reported_from_absent(arm, settings_arm):
    arm.seed(R.security_group())
    revoker = access_revoker(lambda: None, settings_arm)
    assert revoker.revoke("wave-1", RevokeAccess(**R.revoke_access())) == [
        Change(
            NSG,
            "securityRules/deny-migration-team",
            "absent",
            "Deny inbound from 10.50.0.0/24, any port and protocol, priority 100",
        )
    ]
    assert revoker.problems("wave-1", RevokeAccess(**R.revoke_access())) == []  # its own rule is no clash


def test_a_priority_another_inbound_rule_holds_is_refused_naming_it(arm, settings_arm):
    arm.seed(R.security_group())
    config = RevokeAccess(**R.revoke_access(priority=200))  # allow-https holds 200
    revoker = access_revoker(lambda: None, settings_arm)
    [clash, *_] = revoker.problems("wave-1", config)
    assert clash == (
        f"{NSG}: revoke_access.priority 200 is already held by inbound rule allow-https; Azure refuses two rules "
        "with the same priority and direction, so choose a free priority"
    )
    with pytest.raises(RoutingError) as error:
        revoker.revoke("wave-1", config)
    assert str(error.value).startswith(clash)
    assert arm.writes() == []
