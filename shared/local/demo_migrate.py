"""`promote demo`'s Azure Migrate story (contract v3 §16): a release imported from a vault's migration items,
rehearsed (test migration, the test pipeline's verdict, clean-up), cut over (migrate with the source shut down,
then routing) and completed at finalize, on a vault in memory behind the same port the Site Recovery adapter
fills. The demo plays Azure's side (it ends each job) and the `migrate` timer (a watcher round after each)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.domain.errors import RoutingError
from shared.domain.migration import CLEANUP, COMPLETE, MIGRATE, TEST_MIGRATE, AzureMigrate, MachineState, OpStatus
from shared.domain.model import Op, WorkloadState
from shared.local.demo_plans import APPROVER, OPERATOR

SUB = "00000000-0000-0000-0000-000000000000"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-migrate/providers/Microsoft.RecoveryServices/vaults/vault-demo"
VNET = f"/subscriptions/{SUB}/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/vnet-isolated"
GROUP = "hr-apps"
MACHINES = {"vm-hr-web-01": GROUP, "vm-hr-db-01": GROUP, "vm-fin-01": "finance"}


@dataclass
class LocalVault:
    """Migration items in memory, as strict as the vault where promote could go wrong (the HTTPS stand-in the
    tests use, tests/migrate/fake_vault.py, models the REST side): one job at a time per item; a test migration
    must be cleaned up before the next one or a migration; only a migrated item is completed; an operation under
    way or done is found, not started twice. Jobs run until `end_jobs` (Azure's side)."""

    groups: dict[str, str] = field(default_factory=dict)  # machine -> its group tag
    jobs: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (machine, op) -> [job, state]
    test_up: set[str] = field(default_factory=set)  # machines whose test VMs exist
    migrated: set[str] = field(default_factory=set)
    started: list[tuple[str, str]] = field(default_factory=list)
    point: datetime = field(default_factory=lambda: datetime.now(UTC))  # the last recovery point of each item

    def machines(self, vault: str) -> list[MachineState]:
        return [MachineState(m, m, "Replicating", True, g, self.point) for m, g in self.groups.items()]

    def start(self, effect: AzureMigrate) -> list[str]:
        out = []
        for machine in effect.machines:
            if self.jobs.get((machine, effect.op), ["", ""])[1] in ("running", "succeeded"):
                continue  # found under way or done
            busy = [op for (m, op), (_, state) in self.jobs.items() if m == machine and state == "running"]
            refused = (
                busy
                or (effect.op in (TEST_MIGRATE, MIGRATE) and (machine in self.test_up or machine in self.migrated))
                or (effect.op == CLEANUP and machine not in self.test_up)
                or (effect.op == COMPLETE and machine not in self.migrated)
            )
            if refused:
                raise RoutingError(f"{machine}: Azure Migrate does not allow {effect.op} now")
            job = f"job-{len(self.started) + 1}"
            self.jobs[(machine, effect.op)] = [job, "running"]
            self.started.append((machine, effect.op))
            out.append(f"{machine} job {job}")
        return out

    def end_jobs(self) -> None:
        for (machine, op), job in self.jobs.items():
            if job[1] != "running":
                continue
            job[1] = "succeeded"
            if op == TEST_MIGRATE:
                self.test_up.add(machine)
            elif op == CLEANUP:
                self.test_up.discard(machine)
            elif op == MIGRATE:
                self.migrated.add(machine)

    def status(self, vault: str, machines: tuple[str, ...], op: str) -> OpStatus:
        found = [self.jobs[(m, op)] for m in machines if (m, op) in self.jobs]
        names = ",".join(job for job, _ in found) or None
        if len(found) < len(machines) or any(state == "running" for _, state in found):
            return OpStatus("running", names)
        return OpStatus("succeeded", names)


def run_migrate(demo, stamp: str) -> bool:
    """The story, one line per step; whether it ended as it must: finalized, the migration completed, each of
    the four jobs started once per machine."""
    from shared.application.migrate_watch import poll
    from shared.domain.plan import validate_plan
    from shared.local.migrate_cli import from_vault, plan_of

    stack, out, vault = demo.stack, demo.out, LocalVault(dict(MACHINES))
    stack.__dict__["migrator"] = stack.service.migrator = vault  # the vault the CLI and the watcher read

    def azure_then_timer(wait: float = 0.3) -> None:
        vault.end_jobs()
        poll(stack.store, vault, stack.publisher.publish, stack.clock.now())
        demo.settle(wait=wait)

    release = f"demo-{stamp}-migrate"
    out(f"\n== azure-migrate: release {release}")
    workloads = from_vault(argparse.Namespace(vault=VAULT, group=GROUP))
    plan = plan_of(argparse.Namespace(release=release, model="single-step", routing_provider="local"), workloads, VAULT)
    plan |= {"approvers": [APPROVER], "operators": [OPERATOR], "rehearsal": {"network": VNET, "required": True}}
    out(f"  import azure-migrate --group {GROUP}: one workload of {len(plan['workloads'][0]['assets'])} machines; a "
        "passing rehearsal required")  # fmt: skip
    stack.service.apply(validate_plan(plan))
    name = plan["workloads"][0]["name"]
    out("  the vault says both machines replicate (promote sends asset-replicated itself); the tests pass")
    azure_then_timer()
    demo.send("tests-passed", release, name, source="test-pipeline", suite="smoke", run="7")
    demo.settle(wait=0.3)
    out(f"  {OPERATOR} rehearses: test migration into the isolated network; Azure's jobs end, the test VMs are up")
    demo.send("override", release, name, source="operator", action="rehearse", actor=OPERATOR, reason="dress rehearsal")
    demo.settle(wait=0.3)
    azure_then_timer()
    out("  the test pipeline passes the rehearsal: test VMs cleaned up, then the cutover migrates (source shut down)")
    demo.send("rehearsal-passed", release, name, source="test-pipeline", suite="smoke", run="8")
    demo.settle(wait=0.3)
    azure_then_timer()
    out("  Azure's migrate jobs succeed: routing moves every user")
    azure_then_timer()
    out(f"  {APPROVER} finalizes: the migration is completed (replication stops, replica disks go)")
    demo.send("override", release, name, source="operator", action="finalize", actor=APPROVER, reason="cut over")
    demo.settle(wait=0.3)
    azure_then_timer()
    ops = sorted({op for _, op in vault.started})
    out(f"  every job started once: {len(vault.started)} for {len(plan['workloads'][0]['assets'])} machines "
        f"({', '.join(ops)})")  # fmt: skip
    w = demo.status(release)["workloads"][0]
    out(f"  => {demo.status(release)['state']}")
    machines = len(plan["workloads"][0]["assets"])
    once = len(vault.started) == len(set(vault.started)) == 4 * machines
    return w["state"] == WorkloadState.FINALIZED and w["migration"]["completion"]["state"] == Op.SUCCEEDED and once
