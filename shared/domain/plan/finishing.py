"""The plan's finishing sections (contract §8): data_sync, hypercare, decommission, and the Site Recovery vault
replication is read from. The gates built on them are in shared/domain/finishing.py."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from shared.domain.plan.base import RESOURCE_GROUP, SUBSCRIPTION, Strict
from shared.domain.plan.durations import duration

MAX_HYPERCARE_SECONDS = 365 * 24 * 3600  # timers hop at most TIMER_HOP at a time, so this may exceed 7 days
MAX_LAG_SECONDS = 7 * 24 * 3600
# An Azure VM's resource id (case-insensitive like every ARM path).
VM_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]{1,90}/providers/"
    r"Microsoft\.Compute/virtualMachines/[A-Za-z0-9][-\w.]{0,63}$",
    re.IGNORECASE,
)
SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class DataSync(Strict):
    """Hold every move onto the migrated system until the latest replication lag is fresh and small."""

    max_lag: int = Field(description="seconds")
    max_age: int = Field(description="seconds")

    @field_validator("max_lag", mode="before")
    @classmethod
    def _lag(cls, value: Any) -> int:
        return duration(value, limit=MAX_LAG_SECONDS, what="max_lag")

    @field_validator("max_age", mode="before")
    @classmethod
    def _age(cls, value: Any) -> int:
        seconds = duration(value, limit=MAX_LAG_SECONDS, what="max_age")
        if seconds < 1:
            raise ValueError("max_age must be at least 1s: a report of age 0 is never fresh")
        return seconds


class DecommissionTarget(Strict):
    """How one workload's source system is turned off: `local`, `azure-vm` or `webhook`."""

    provider: Literal["local", "azure-vm", "webhook"] = "local"
    source_vms: list[str] | None = Field(default=None, max_length=100)
    url_setting: str | None = None

    @field_validator("source_vms")
    @classmethod
    def _vms(cls, values: list[str] | None) -> list[str] | None:
        for value in values or []:
            if not VM_ID.match(value):
                raise ValueError(
                    f"{value!r} is not a virtual machine resource id (/subscriptions/<id>/"
                    "resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachines/<name>)"
                )
        if values is not None and len({v.lower() for v in values}) != len(values):
            raise ValueError("source_vms must be unique")
        return values

    @field_validator("url_setting")
    @classmethod
    def _setting(cls, value: str | None) -> str | None:
        if value is not None and not SETTING_NAME.match(value):
            raise ValueError(f"{value!r} is not an app setting name (letters, digits and _)")
        return value

    @model_validator(mode="after")
    def _provider_fields(self) -> DecommissionTarget:
        if self.provider == "azure-vm" and not self.source_vms:
            raise ValueError("azure-vm needs source_vms (the source servers' resource ids)")
        if self.provider != "azure-vm" and self.source_vms is not None:
            raise ValueError(f"source_vms is for provider azure-vm, not {self.provider}")
        if self.provider == "webhook" and not self.url_setting:
            raise ValueError("webhook needs url_setting (the name of the app setting holding the URL)")
        if self.provider != "webhook" and self.url_setting is not None:
            raise ValueError(f"url_setting is for provider webhook, not {self.provider}")
        return self


class Decommission(DecommissionTarget):
    """Release-wide: who finalizes (an approver, or promote at hypercare end) and the default provider."""

    approval: Literal["manual", "auto"] = "manual"


class SiteRecoverySource(Strict):
    """Where the migration tool keeps its replication items: an Azure Site Recovery / Azure Migrate vault.
    A timer reads its replication protected items and publishes asset-replicated and replication-lag for the
    release's assets (matched by the item's friendly name, i.e. the server's name)."""

    provider: Literal["azure-site-recovery"] = "azure-site-recovery"
    subscription: str = Field(pattern=SUBSCRIPTION)
    resource_group: str = Field(min_length=1, max_length=90, pattern=RESOURCE_GROUP)
    vault: str = Field(min_length=2, max_length=50, pattern=r"^[A-Za-z][-A-Za-z0-9]{1,49}$")


def parse_hypercare(value: Any) -> int:
    return duration(value, limit=MAX_HYPERCARE_SECONDS, what="hypercare")
