"""The `azure-vm` decommission provider: power off, then deallocate, each source VM (azure-mgmt-compute).

Each VM's instance view is read first: a VM already deallocated is not touched, a stopped one is only
deallocated, so a retry or a redelivery never powers a server off twice. After the changes the power state
is read again: the workload is never reported finalized before every source VM is deallocated.
Least privilege: Microsoft.Compute/virtualMachines/read, /instanceView/read, /powerOff/action and
/deallocate/action on the source VMs (infra/roles/decommission-vm-operator.json).
"""

from __future__ import annotations

import re
from typing import Any

from shared.adapters.decommission import DecommissionError, DecommissionRequest
from shared.adapters.routing import _arm
from shared.adapters.routing._arm import ArmSettings
from shared.domain.errors import RoutingError
from shared.domain.routing import Change

_ID = re.compile(
    r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.Compute/"
    r"virtualMachines/([^/]+)$",
    re.IGNORECASE,
)
NEEDS = "Microsoft.Compute/virtualMachines/read, powerOff/action and deallocate/action"
_RUNNING = ("running", "starting", "stopping", "unknown")


def power_state(view: Any) -> str:
    """'running', 'stopped', 'deallocated', ... from an instance view's PowerState/<state> status."""
    for status in getattr(view, "statuses", None) or []:
        code = getattr(status, "code", "") or ""
        if code.lower().startswith("powerstate/"):
            return code.split("/", 1)[1].lower()
    return "unknown"


class AzureVmDecommissioner:
    def __init__(self, settings: ArmSettings):
        self.settings = settings

    def decommission(self, release: str, request: DecommissionRequest) -> list[Change]:
        if not request.target.source_vms:  # the plan requires them; never report an empty list as turned off
            raise DecommissionError("azure-vm needs source_vms (the source servers' resource ids)")
        changes: list[Change] = []
        for vm_id in request.target.source_vms:
            try:
                changes += self._turn_off(vm_id)
            except (RoutingError, DecommissionError) as exc:
                done = "; ".join(map(str, changes))
                raise DecommissionError((f"{done}; " if done else "") + str(exc)) from None
        return changes

    def _turn_off(self, vm_id: str) -> list[Change]:
        from azure.mgmt.compute import ComputeManagementClient

        match = _ID.match(vm_id)
        if match is None:  # the plan validates ids; a hand-made request may not
            raise DecommissionError(f"{vm_id!r} is not a virtual machine resource id")
        subscription, group, name = match.groups()
        client = _arm.client(ComputeManagementClient, self.settings, subscription)
        vm = f"virtual machine {name}"
        with _arm.arm_errors(vm, NEEDS):
            state = power_state(client.virtual_machines.instance_view(group, name))
            changes: list[Change] = []
            if state == "deallocated":
                return changes
            if state == "deallocating":
                raise DecommissionError(f"{vm} is still deallocating (started by someone else); retried later")
            if state in _RUNNING:
                _arm.wait(client.virtual_machines.begin_power_off(group, name))
                changes.append(Change(vm, "power state", state, "stopped"))
                state = "stopped"
            _arm.wait(client.virtual_machines.begin_deallocate(group, name))
            changes.append(Change(vm, "power state", state, "deallocated"))
            after = power_state(client.virtual_machines.instance_view(group, name))
        if after != "deallocated":
            raise DecommissionError(f"{vm} reports power state {after} after deallocate; retried later")
        return changes
