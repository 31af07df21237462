"""dns's TTL note for a record set read without a TTL (shared/adapters/routing/dns.py `notes`) and
azure-firewall's wait for a policy another operation is updating (azure_firewall.py `_idle`), against the
local Resource Manager."""

from __future__ import annotations

import pytest

from shared.domain.errors import RoutingError
from shared.domain.plan import AzureFirewallRouting
from tests.routing import arm_resources as R
from tests.routing.test_pin_dns import WHAT
from tests.routing.test_routing_edge import _dns, _router, _rules, _seed_policy, _seed_record

POLICY = "firewall policy fw-pol in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"


def test_a_record_set_without_a_ttl_is_noted_at_0_seconds(arm, settings_arm):
    record = _seed_record(arm, "private-dns")
    arm.edit(record, lambda doc: doc["properties"].pop("ttl"))
    assert _router(settings_arm, _dns("private-dns")).notes([100]) == [
        f"{WHAT}: TTL 0s: resolvers that asked before the switch keep the old value up to 0s after it (set "
        "lower_ttl_to to lower it at apply)"
    ]
    assert _router(settings_arm, _dns("private-dns", lower_ttl_to=60)).notes([100]) == [
        f"{WHAT}: TTL 0s is already at most lower_ttl_to (60s): no wait"
    ]


def test_a_policy_seen_updating_is_waited_for_before_writing_not_written_into(arm, settings_arm, naps):
    _seed_policy(arm)
    router = _router(settings_arm, AzureFirewallRouting(**R.routing("azure-firewall")))
    arm.edge.busy(R.POLICY, 0.3)  # someone else's update of the policy is running: its state says Updating
    arm.clear_log()
    router.apply(100)
    assert [r.status for r in arm.log if r.method == "PUT"] == [200]  # one write, once the policy was idle
    assert naps.asked[0] == 5.0
    assert _rules(arm)["https"]["translatedAddress"] == "10.20.0.4"


def test_a_policy_updating_for_longer_than_the_budget_is_named_with_its_state(arm, settings_arm, naps):
    _seed_policy(arm)
    router = _router(settings_arm, AzureFirewallRouting(**R.routing("azure-firewall")))
    arm.edge.busy(R.POLICY, 60)
    with pytest.raises(RoutingError) as error:
        router.apply(100)
    assert str(error.value) == (
        f"{POLICY}: provisioning state Updating: an operation on it is in progress (still busy after waiting "
        "125s; the redelivery waits again)"
    )
    assert not [r for r in arm.log if r.method == "PUT"]
