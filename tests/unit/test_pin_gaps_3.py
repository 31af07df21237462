"""Pins for the leftover mutation gaps of issue 21 (decommission, metrics batching, site recovery, ...)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from azure.mgmt.recoveryservicessiterecovery.models import ReplicationProtectedItem

from shared.adapters.decommission import DecommissionError
from shared.adapters.decommission.azure_vm import AzureVmDecommissioner
from shared.adapters.metrics.platform import _type
from shared.adapters.site_recovery import ItemState, item_state
from shared.application.batch_routing import THROTTLED_FIRST, Budget
from shared.application.drift import check_release
from shared.domain.model import new_release
from shared.domain.plan import Budgets, validate_plan
from tests.fakes import T0, FakeNetwork, MemoryStore
from tests.finish.fake_azure import FakeAzure
from tests.routing.conftest import arm_settings, arm_tls, credential  # noqa: F401  (fixtures)
from tests.routing.fake_arm import _error
from tests.unit.test_pin_decommission import VM, request, unchecked


class DenyingAzure(FakeAzure):
    """Resource Manager for an identity that may read VMs but lacks powerOff/action: Azure answers 403
    AuthorizationFailed, naming the action and the scope."""

    def _vm(self, method, path, action):
        if method == "POST" and (action or "").lower() == "poweroff":
            return _error(
                403,
                "AuthorizationFailed",
                f"The client 'promote' does not have authorization to perform action "
                f"'Microsoft.Compute/virtualMachines/powerOff/action' over scope '{path.rsplit('/', 1)[0]}'",
            )
        return super()._vm(method, path, action)


@pytest.fixture
def denying(arm_tls, monkeypatch):  # noqa: F811
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(arm_tls[0]))
    fake = DenyingAzure()
    server = fake.serve(*arm_tls)
    yield fake
    server.stop()


def test_a_403_turning_a_vm_off_names_the_permission_the_identity_needs(denying, credential):  # noqa: F811
    denying.add_vm(VM + "web", "running")
    target = unchecked(provider="azure-vm", source_vms=[VM + "web"])
    with pytest.raises(DecommissionError) as caught:
        AzureVmDecommissioner(arm_settings(denying, credential)).decommission("r1", request(target))
    assert str(caught.value) == (
        "virtual machine web: access denied (403); the identity needs "
        "Microsoft.Compute/virtualMachines/read, powerOff/action and deallocate/action: "
        "AuthorizationFailed: The client 'promote' does not have authorization to perform action "
        f"'Microsoft.Compute/virtualMachines/powerOff/action' over scope '{VM}web'"
    )
    assert denying.state(VM + "web") == "running"


def test_an_extension_resource_is_typed_from_the_first_providers_segment_and_batched_with_neither_side():
    # the plan's resource pattern admits a second `/providers/` (an extension resource on a VM): its type is
    # read from after the FIRST one, so a batch never mixes it with plain VMs nor with plain extension resources
    vm = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1"
    extension = f"{vm}/providers/Microsoft.Insights/dataCollectionRuleAssociations/a-1"
    plain = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRuleAssociations/a-2"
    assert _type(extension) == "microsoft.compute/virtualmachines/providers/datacollectionruleassociations"
    assert _type(vm) == "microsoft.compute/virtualmachines"
    assert _type(plain) == "microsoft.insights/datacollectionruleassociations"


def wire_item(time: str) -> ReplicationProtectedItem:
    """A protected item as Site Recovery's answer deserialises it: its time exactly as sent on the wire."""
    return ReplicationProtectedItem(
        {
            "name": "i1",
            "properties": {
                "friendlyName": "vm-web",
                "protectionState": "Protected",
                "replicationHealth": "Normal",
                "providerSpecificDetails": {"instanceType": "A2A", "rpoInSeconds": 12, "lastRpoCalculatedTime": time},
            },
        }
    )


def test_a_time_sent_without_an_offset_is_read_as_utc_and_one_with_an_offset_is_kept():
    # the SDK deserialises a time without an offset as a naive datetime: Azure's times are UTC
    naive = item_state(wire_item("2026-11-26T22:00:00"))
    assert naive == ItemState("i1", "vm-web", True, "Protected", "Normal", 12.0, datetime(2026, 11, 26, 22, tzinfo=UTC))
    assert naive.rpo_at is not None and naive.rpo_at.utcoffset() == timedelta(0)
    aware = item_state(wire_item("2026-11-26T23:00:00+01:00"))
    assert aware.rpo_at is not None
    assert (aware.rpo_at.isoformat(), aware.rpo_at.utcoffset()) == ("2026-11-26T23:00:00+01:00", timedelta(hours=1))


def test_each_429_is_counted_and_waited_for():
    slept: list[float] = []
    budget = Budget.of(Budgets(), now=lambda: 100.0, sleep=slept.append)
    assert (budget.throttled(2.0), budget.throttled(None)) == (2.0, THROTTLED_FIRST)
    assert (budget.throttles, slept) == (2, [2.0, THROTTLED_FIRST])


def test_a_workload_recorded_at_1_percent_found_at_0_is_a_drift_recorded_and_re_applied():
    # the live share read as 0% is compared with the recorded 1% as 0, never as anything else
    plan = validate_plan({"release": "r1", "model": "flight", "on_drift": "reapply",
                          "flights": [{"percent": 1}, {"percent": 100}],
                          "workloads": [{"name": "w1", "assets": ["vm-1"]}]})  # fmt: skip
    release = new_release(plan)
    w1 = release.workloads["w1"].evolve(state="flighting", flight=1, traffic_percent=1)
    store, network = MemoryStore(), FakeNetwork()
    store.create_release(release.evolve(workloads={"w1": w1}))
    network.shares[("r1", "w1")] = 0
    checks, entries = check_release(store, network.router, "r1", T0)
    assert [(c.live_percent, c.expected_percent) for c in checks] == [(0, 1)]
    assert [(e.workload, e.outcome, e.reason) for e in entries] == [
        (
            "w1",
            "applied",
            "drift on local routing record r1/w1: live 0%, state says 1% (share is 0, expected 1); "
            "re-applying 1% (on_drift: reapply)",
        )
    ]
    assert network.shares[("r1", "w1")] == 1
