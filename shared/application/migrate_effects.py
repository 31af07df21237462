"""Carrying out Azure Migrate's operations (contract v3 §16) before a decision's commit, and the port they go
through. The adapter (shared/adapters/migrate) is idempotent per machine: an operation already under way or
done for a machine is found and kept, never started twice, so a redelivered decision starts nothing new."""

from __future__ import annotations

from typing import Any, Protocol

from shared.domain.errors import RoutingError
from shared.domain.migration import AzureMigrate, MachineState, OpStatus


class Migrator(Protocol):
    def start(self, effect: AzureMigrate) -> list[str]:
        """Start `effect.op` for each of its machines that does not have it under way or done; the jobs."""
        ...

    def status(self, vault: str, machines: tuple[str, ...], op: str) -> OpStatus: ...

    def machines(self, vault: str) -> list[MachineState]: ...


def carry(carrying: Any, effect: AzureMigrate) -> None:
    """The effect handler (shared/application/effects.py HANDLERS): a refusal fails the message (retried, then
    `attention` at retry.max, v3 §18), so nothing is committed as started that Azure did not start."""
    migrator = carrying.ports.migrator
    if migrator is None:
        raise RoutingError("no Azure Migrate client is configured for this service (source: azure-migrate)")
    jobs = migrator.start(effect)
    what = f"Azure Migrate {effect.op} of {len(effect.machines)} machine(s)"
    carrying.made.setdefault(effect.workload, []).append(f"{what}: " + (", ".join(jobs) or "already under way"))
