"""An Azure Migrate vault in memory, behind the Migrator port: machines, and one job per machine and operation.
Strict like the vault where promote could get it wrong: an operation a machine is not ready for is refused,
a test migration must be cleaned up before the next one or a migration, and a job is started once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.domain.errors import RoutingError
from shared.domain.migration import CLEANUP, COMPLETE, MIGRATE, TEST_MIGRATE, AzureMigrate, MachineState, OpStatus


@dataclass
class FakeMigrator:
    replicated: dict[str, bool] = field(default_factory=dict)  # machine -> in delta sync
    jobs: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (machine, op) -> [job, state, error]
    started: list[tuple[str, str]] = field(default_factory=list)  # every (machine, op) started, in order
    test_up: set[str] = field(default_factory=set)  # machines whose test VMs exist
    migrated: set[str] = field(default_factory=set)
    points: dict[str, datetime] = field(default_factory=dict)  # machine -> its last recovery point received
    down: bool = False
    n: int = 0

    def add(self, *machines: str, replicated: bool = True) -> None:
        for name in machines:
            self.replicated[name] = replicated

    def start(self, effect: AzureMigrate) -> list[str]:
        if self.down:
            raise ConnectionError("vault unreachable")
        out = []
        for machine in effect.machines:
            key = (machine, effect.op)
            if key in self.jobs and self.jobs[key][1] in ("running", "succeeded"):
                continue  # found: never started twice
            self._allowed(machine, effect.op)
            self.n += 1
            self.jobs[key] = [f"job-{self.n}", "running", ""]
            self.started.append(key)
            out.append(f"{machine} job-{self.n}")
        return out

    def _allowed(self, machine: str, op: str) -> None:
        if not self.replicated.get(machine):
            raise RoutingError(f"{machine}: not in delta sync: {op} is not allowed")
        if op in (TEST_MIGRATE, MIGRATE) and machine in self.test_up:
            raise RoutingError(f"{machine}: a test migration is not cleaned up: {op} is not allowed")
        if op == COMPLETE and machine not in self.migrated:
            raise RoutingError(f"{machine}: not migrated: complete migration is not allowed")

    def finish(self, op: str, ok: bool = True, error: str = "", only: tuple[str, ...] = ()) -> None:
        """The running jobs of `op` end (`only`: these machines' alone)."""
        for (machine, o), job in self.jobs.items():
            if o == op and job[1] == "running" and (not only or machine in only):
                job[1], job[2] = ("succeeded" if ok else "failed"), error
                if o == TEST_MIGRATE:
                    self.test_up.add(machine)  # a failed test migration may leave test resources too
                if o == CLEANUP and ok:
                    self.test_up.discard(machine)
                    for k in [k for k in self.jobs if k[0] == machine and k[1] in (TEST_MIGRATE, CLEANUP)]:
                        self.jobs[k][1] = "done"  # the next rehearsal starts new jobs
                if o == MIGRATE and ok:
                    self.migrated.add(machine)

    def status(self, vault: str, machines: tuple[str, ...], op: str) -> OpStatus:
        found = [(m, self.jobs[(m, op)]) for m in machines if (m, op) in self.jobs]
        names = ",".join(j[0] for _, j in found) or None
        if len(found) < len(machines) or any(j[1] == "running" for _, j in found):
            return OpStatus("running", names)
        failed = [f"{m}: {j[2]}" for m, j in found if j[1] == "failed"]
        return OpStatus("failed", names, "; ".join(failed)) if failed else OpStatus("succeeded", names)

    def machines(self, vault: str) -> list[MachineState]:
        return [
            MachineState(n, n, self._state(n), ok, recovery_point=self.points.get(n))
            for n, ok in self.replicated.items()
        ]

    def _state(self, machine: str) -> str:
        """migrationState as Azure says it: a migrated item's replication is over (its last recovery point stays
        the final replication's), a failed migration's item goes on replicating."""
        if machine in self.migrated:
            return "MigrationSucceeded"
        job = self.jobs.get((machine, MIGRATE))
        return "MigrationFailed" if job is not None and job[1] == "failed" else "Replicating"
