"""A decommission request whose typed target lacks what its provider needs is a decommission failure (recorded
and retried by the service), never a crash and never an empty list of changes read as "turned off"."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared.adapters.decommission import DecommissionError
from shared.adapters.decommission.azure_vm import AzureVmDecommissioner
from shared.adapters.decommission.webhook import WebhookDecommissioner
from shared.domain.plan import DecommissionTarget


@dataclass(frozen=True)
class Request:
    target: DecommissionTarget
    workload: str = "payroll"
    assets: tuple[str, ...] = ("vm-payroll",)
    actor: str = "ana@contoso.com"
    attempt: int = 1


@dataclass(frozen=True)
class Settings:
    arm_endpoint: str | None = None


def test_azure_vm_without_source_vms_is_a_failure_not_a_success():
    # the plan refuses this target; one built by hand (model_construct skips validation) must not pass either
    target = DecommissionTarget.model_construct(provider="azure-vm", source_vms=None)
    with pytest.raises(DecommissionError, match="azure-vm needs source_vms"):
        AzureVmDecommissioner(Settings()).decommission("wave-1", Request(target))


def test_webhook_without_url_setting_is_a_failure_naming_the_field():
    target = DecommissionTarget.model_construct(provider="webhook", url_setting=None)
    with pytest.raises(DecommissionError, match="webhook needs url_setting"):
        WebhookDecommissioner({}).decommission("wave-1", Request(target))
