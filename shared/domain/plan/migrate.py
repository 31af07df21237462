"""The plan's Azure Migrate sections (contract v3 §16): `source` (the Site Recovery vault of the Azure Migrate
project, and whether the cutover shuts the source down) and `rehearsal` (test migration into an isolated
network, and whether a cutover waits for a passing one). The rules built on them: machine/rules/migrate.py."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from shared.domain.plan.base import Strict
from shared.domain.plan.durations import duration

# Resource ids, compared case-insensitively like every ARM path
VAULT_ID = re.compile(
    r"^/subscriptions/([0-9a-fA-F-]{36})/resourceGroups/([-\w._()]{1,90})/providers/"
    r"Microsoft\.RecoveryServices/vaults/([A-Za-z][-A-Za-z0-9]{1,49})$",
    re.IGNORECASE,
)
NETWORK_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]{1,90}/providers/"
    r"Microsoft\.Network/virtualNetworks/[A-Za-z0-9][-\w.]{0,63}$",
    re.IGNORECASE,
)
MAX_REHEARSAL_AGE = 365 * 24 * 3600
MAX_CLEANUP_AFTER = 7 * 24 * 3600  # one scheduled message: a queue message waits at most seven days
DEFAULT_MAX_AGE = 14 * 24 * 3600
DEFAULT_CLEANUP_AFTER = 4 * 3600


class MigrateSource(Strict):
    """Azure Migrate drives the workloads: its migration items' replication feeds asset-replicated and the lag,
    `promote rehearse` test-migrates them, the cutover migrates them (source shut down first with
    `shutdown_source`) before routing moves, and finalize completes the migration (stops replication)."""

    provider: Literal["azure-migrate"]
    vault: str = Field(description="the Site Recovery vault's resource id")
    shutdown_source: bool = True

    @field_validator("vault")
    @classmethod
    def _vault(cls, value: str) -> str:
        if not VAULT_ID.match(value):
            raise ValueError(
                f"{value!r} is not a Recovery Services vault resource id (/subscriptions/<id>/resourceGroups/"
                "<rg>/providers/Microsoft.RecoveryServices/vaults/<name>)"
            )
        return value

    def _part(self, i: int) -> str:
        found = VAULT_ID.match(self.vault)
        assert found is not None  # validated
        return found.group(i)

    @property
    def subscription(self) -> str:
        return self._part(1)

    @property
    def resource_group(self) -> str:
        return self._part(2)

    @property
    def vault_name(self) -> str:
        return self._part(3)


class Rehearsal(Strict):
    """Test migration into an isolated network: recorded per workload with its plan hash; `required` holds the
    cutover until a passing rehearsal of this plan, at most `max_age` old, exists; the test VMs are cleaned up
    when the verdict arrives or `cleanup_after` the start, whichever comes first."""

    network: str = Field(description="the isolated virtual network's resource id")
    required: bool = False
    max_age: int = Field(default=DEFAULT_MAX_AGE, description="seconds")
    cleanup_after: int = Field(default=DEFAULT_CLEANUP_AFTER, description="seconds")

    @field_validator("network")
    @classmethod
    def _network(cls, value: str) -> str:
        if not NETWORK_ID.match(value):
            raise ValueError(
                f"{value!r} is not a virtual network resource id (/subscriptions/<id>/resourceGroups/<rg>/"
                "providers/Microsoft.Network/virtualNetworks/<name>)"
            )
        return value

    @field_validator("max_age", mode="before")
    @classmethod
    def _age(cls, value: Any) -> int:
        seconds = duration(value, limit=MAX_REHEARSAL_AGE, what="max_age")
        if seconds < 60:
            raise ValueError("max_age must be at least 1m")
        return seconds

    @field_validator("cleanup_after", mode="before")
    @classmethod
    def _cleanup(cls, value: Any) -> int:
        seconds = duration(value, limit=MAX_CLEANUP_AFTER, what="cleanup_after")
        if seconds < 60:
            raise ValueError("cleanup_after must be at least 1m: the test VMs need time to boot and be tested")
        return seconds


_MACHINE = re.compile(r"^[^\x00-\x1f\x7f]{1,256}$")


def check_machines(values: list[str] | None) -> list[str] | None:
    """A workload's `machines`: printable names, each once (Azure Migrate machine names ignore case)."""
    for value in values or []:
        if not _MACHINE.fullmatch(value):
            raise ValueError(f"machine {value!r} must be 1-256 characters without control characters")
    if values is not None and len({v.lower() for v in values}) != len(values):
        raise ValueError("machines must be unique")
    return values


def migrate_problems(plan: Any) -> list[str]:
    """Cross-field rules of §16, each naming its field: a rehearsal and machines need `source`; a machine is
    migrated by one workload; `machines` names the machine of each asset, in order."""
    problems: list[str] = []
    if plan.rehearsal is not None and plan.source is None:
        problems.append("rehearsal: a rehearsal is a test migration by Azure Migrate: it needs source")
    if plan.source is not None and plan.replication is not None:
        problems.append("replication: source azure-migrate reads the vault's replication itself: remove replication")
    if plan.source is not None and plan.source.shutdown_source and plan.model == "flight":
        # migrate shuts the source down before the first move: a flight then leaves most users on a server that
        # is off (10% moved, 90% routed to nothing)
        problems.append(
            "source.shutdown_source: a flight moves users a share at a time, but the migrate shuts the source down "
            "before the first share moves: use single-step or staged, or shutdown_source: false"
        )
    seen: dict[str, str] = {}
    for i, w in enumerate(plan.workloads):
        if w.machines is None:
            pass
        elif plan.source is None:
            problems.append(f"workloads[{i}].machines: machines are Azure Migrate machines: they need source")
        elif len(w.machines) != len(w.assets):
            problems.append(
                f"workloads[{i}].machines: names the machine of each asset, in order: "
                f"{len(w.assets)} asset(s), {len(w.machines)} machine(s)"
            )
        for machine in w.machine_names if plan.source is not None else []:
            other = seen.setdefault(machine.lower(), w.name)
            if other != w.name:
                problems.append(f"workloads[{i}].machines: machine {machine} is also in workload {other}")
    return problems
