"""Replication state from Azure Site Recovery / Azure Migrate (azure-mgmt-recoveryservicessiterecovery).

Reads a vault's replication protected items (one paged list per vault and round) and reduces each to what
promote needs: is its initial replication complete and healthy, and its RPO (the replication lag) with the
time it was calculated. The RPO's property differs per replication scenario: `rpoInSeconds` (A2A, Hyper-V,
InMage) or `lastRpoInSeconds` (InMageRcm, the VMware/physical appliance); both sit beside
`lastRpoCalculatedTime` in `providerSpecificDetails`.
Least privilege: Microsoft.RecoveryServices/vaults/replicationProtectedItems/read, the vault-level list this
calls (infra/modules/finish-access.bicep's role; the built-in "Site Recovery Reader" grants it too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.adapters.routing import _arm

# protectionState values meaning the initial replication is done and changes are replicating
PROTECTED_STATES = ("protected",)
NEEDS = "Microsoft.RecoveryServices/vaults/replicationProtectedItems/read (promote's role, or Site Recovery Reader)"


@dataclass(frozen=True)
class ItemState:
    name: str
    friendly_name: str
    replicated: bool  # initial replication complete and health normal
    protection_state: str
    health: str
    rpo_seconds: float | None
    rpo_at: datetime | None


def _text(value: Any) -> str:
    return _arm.text(value)


def item_state(item: Any) -> ItemState:
    props = item.properties
    details = getattr(props, "provider_specific_details", None)
    rpo = getattr(details, "rpo_in_seconds", None)
    if rpo is None:
        rpo = getattr(details, "last_rpo_in_seconds", None)
    at = getattr(details, "last_rpo_calculated_time", None)
    if isinstance(at, datetime) and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    state, health = _text(props.protection_state), _text(props.replication_health)
    return ItemState(
        name=item.name or "",
        friendly_name=props.friendly_name or item.name or "",
        replicated=state.lower() in PROTECTED_STATES and health.lower() == "normal",
        protection_state=state,
        health=health,
        rpo_seconds=None if rpo is None else float(rpo),
        rpo_at=at,
    )


class SiteRecoveryReader:
    def __init__(self, settings: Any):
        self.settings = settings

    def items(self, source: Any) -> list[ItemState]:
        from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

        client = _arm.client(SiteRecoveryManagementClient, self.settings, source.subscription)
        with _arm.arm_errors(f"Site Recovery vault {source.vault}", NEEDS):
            return [item_state(i) for i in client.replication_protected_items.list(source.resource_group, source.vault)]
