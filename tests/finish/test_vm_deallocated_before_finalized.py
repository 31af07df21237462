"""The `azure-vm` decommission reads each VM's power state back after deallocating it: a VM that is not
deallocated then (someone started it again meanwhile: a colleague, an auto-start schedule) fails the
attempt, and the workload stays promoted, its source running, until a retry finds it deallocated. The real
Compute SDK against the local Resource Manager, through the service."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from shared.adapters.decommission import DecommissionError, decommissioner
from shared.adapters.decommission.azure_vm import AzureVmDecommissioner
from shared.application.service import PromotionService
from shared.domain.finishing import DecommissionTarget
from shared.domain.plan import validate_plan
from tests.fakes import FakeClock, FakeDeadLetters, FakeNetwork, FakeScheduler, MemoryStore, event
from tests.finish.fake_azure import FakeAzure
from tests.routing.conftest import arm_settings

SUB = "00000000-0000-0000-0000-000000000000"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-old/providers/Microsoft.Compute/virtualMachines/"
APPROVER = "ana@contoso.com"


@dataclass
class RestartedAfterDeallocate(FakeAzure):
    """Someone starts a VM again right after promote's deallocate of it completes (`restarts` times)."""

    restarts: int = 1
    deallocating: dict[str, str] = field(default_factory=dict)  # operation id -> VM id (lower case)

    def _vm(self, method: str, path: str, action: str | None):
        answer = super()._vm(method, path, action)
        if method == "POST" and (action or "").lower() == "deallocate" and answer[0] == 202:
            operation = answer[1]["Azure-AsyncOperation"].split("/operations/")[1].split("?")[0]
            self.deallocating[operation] = path.rsplit("/", 1)[0].lower()
        return answer

    def _operation(self, operation: str):
        status, headers, body = super()._operation(operation)
        if body and body["status"] == "Succeeded" and operation in self.deallocating and self.restarts:
            self.restarts -= 1
            self.vms[self.deallocating.pop(operation)] = "running"
        return status, headers, body


@dataclass(frozen=True)
class Request:
    """What a decommission provider reads of the machine's request (its Decommission effect)."""

    workload: str
    target: DecommissionTarget
    assets: tuple[str, ...]
    actor: str
    attempt: int


def _request(vm: str) -> Request:
    return Request("w1", DecommissionTarget(provider="azure-vm", source_vms=[VM + vm]), ("a",), APPROVER, 0)


@pytest.fixture
def restarting(arm_tls, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(arm_tls[0]))
    fake = RestartedAfterDeallocate()
    server = fake.serve(*arm_tls)
    yield fake
    server.stop()


def test_a_vm_not_deallocated_after_the_deallocate_fails_the_decommission(restarting, credential):
    restarting.add_vm(VM + "web", "running")
    with pytest.raises(DecommissionError) as err:
        AzureVmDecommissioner(arm_settings(restarting, credential)).decommission("r1", _request("web"))
    assert str(err.value).endswith("virtual machine web reports power state running after deallocate; retried later")
    assert restarting.state(VM + "web") == "running"


def test_the_workload_is_finalized_only_once_its_vm_reads_deallocated(restarting, credential):
    restarting.add_vm(VM + "web", "running")
    clock, store, scheduler = FakeClock(), MemoryStore(), FakeScheduler()
    network = FakeNetwork()
    service = PromotionService(
        store=store,
        routers=network.router,
        scheduler=scheduler,
        revoker=network,
        dead_letters=FakeDeadLetters(),
        clock=clock,
        decommissioner=decommissioner(lambda: None, arm_settings(restarting, credential)),
    )
    service.apply(
        validate_plan(
            {
                "release": "r1",
                "model": "single-step",
                "approval": "auto",
                "approvers": [APPROVER],
                "decommission": {"provider": "azure-vm", "source_vms": [VM + "web"]},
                "workloads": [{"name": "w1", "assets": ["a"]}],
            }
        )
    )
    service.handle(event("asset-replicated", "r1", "w1", "rep", asset="a"))
    service.handle(event("tests-passed", "r1", "w1", "tests"))

    def after(seconds: int) -> None:  # time passes; every message promote scheduled for itself is handled
        for _ in range(seconds):
            clock.advance(1)
            for _ in range(10):
                for message in scheduler.due(clock.now()):
                    service.handle(json.dumps(message))
            assert not scheduler.due(clock.now()), "promote keeps scheduling messages for now"

    result = service.handle(event("override", "r1", "w1", "fin", action="finalize", actor=APPROVER, reason="done"))
    assert result.outcome == "applied"
    after(1)  # the decommission, wherever it runs: the VM reads running again after its deallocate
    workload = store.get_release("r1").release.workloads["w1"]
    assert (workload.state, workload.finalized_by, workload.decommission_failures) == ("promoted", None, 1)
    assert "reports power state running after deallocate" in workload.decommission_error
    assert restarting.state(VM + "web") == "running"
    after(30)  # the retry: the VM is running again, so it is powered off and deallocated once more
    workload = store.get_release("r1").release.workloads["w1"]
    assert (workload.state, workload.finalized_by) == ("finalized", APPROVER)
    assert restarting.state(VM + "web") == "deallocated"
