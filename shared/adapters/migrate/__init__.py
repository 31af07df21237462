"""Azure Migrate's agentless migration through Site Recovery's migration items (contract v3 §16), with the
real azure-mgmt-recoveryservicessiterecovery 2.x client (`replication_migration_items`, `replication_jobs`).

- `start`: test migration (into the plan's isolated network, from the machine's latest recovery point), its
  clean-up, migration (`performShutdown` from `shutdown_source`) and complete migration (the item's DELETE:
  replication stops, the replica disks go). Idempotent per machine: an operation under way or done is found
  in the item's states and left alone, never started twice; one the item's `allowedOperations` does not list
  is refused naming the states (as Az.Migrate does). Actions are long-running: the request is sent with
  polling off and the Site Recovery job is named by the `Azure-AsyncOperation` URL's last segment.
- `status`: where an operation stands for a workload's machines, from the items' states; a failed one's
  reason is read from its job (`replication_jobs.get`).
- `machines`: every migration item of the vault (import, asset-replicated, and the lag: the time since its last
  recovery point).
Throttling (429 with Retry-After) and 5xx are retried by the SDK's own retry policy.
Least privilege, per operation (infra/modules/finish-access.bicep's migrate role is exactly these, checked by
tests/infra/test_migrate_roles.py against the requests sent): the list: Microsoft.RecoveryServices/vaults/
replicationMigrationItems/read; test migration, clean-up, migration: .../replicationFabrics/
replicationProtectionContainers/replicationMigrationItems/{testMigrate,testMigrateCleanup,migrate}/action;
completion: .../replicationMigrationItems/delete; a failed job's errors: .../vaults/replicationJobs/read.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from shared.adapters.routing import _arm
from shared.domain.errors import RoutingError
from shared.domain.migration import (
    CLEANUP,
    COMPLETE,
    MIGRATE,
    MIGRATED,
    TEST_MIGRATE,
    AzureMigrate,
    MachineState,
    OpStatus,
)
from shared.domain.plan.migrate import VAULT_ID

ITEMS = "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationMigrationItems"
NEEDS = {  # the RBAC action of each operation (named in a 403's message)
    TEST_MIGRATE: f"{ITEMS}/testMigrate/action",
    CLEANUP: f"{ITEMS}/testMigrateCleanup/action",
    MIGRATE: f"{ITEMS}/migrate/action",
    COMPLETE: f"{ITEMS}/delete",
}
READ = "Microsoft.RecoveryServices/vaults/replicationMigrationItems/read"
OPERATION = {
    TEST_MIGRATE: "TestMigrate",
    CLEANUP: "TestMigrateCleanup",
    MIGRATE: "Migrate",
    COMPLETE: "DisableMigration",
}
TESTED = ("testmigrationsucceeded", "testmigrationfailed", "testmigrationcompletedwithinformation",
          "testmigrationpartiallysucceeded")  # fmt: skip
_ITEM_ID = re.compile(
    r"/replicationFabrics/([^/]+)/replicationProtectionContainers/([^/]+)/replicationMigrationItems/([^/]+)$", re.I
)


def _props(item: Any) -> dict:
    return item.get("properties") or {}


def _name(item: Any) -> str:
    return str(_props(item).get("machineName") or item.get("name") or "")


def _state(item: Any | None, key: str) -> str:
    return "" if item is None else str(_props(item).get(key) or "").lower()


def _received(details: Any) -> datetime | None:
    """VMwareCbt's lastRecoveryPointReceived (absent before the first delta cycle); naive means UTC."""
    value = details.get("lastRecoveryPointReceived")
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return None  # none yet (or unreadable): no lag is reported, the data-sync gate holds
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _job(item: Any, op: str, state: str | None) -> str | None:
    """The Site Recovery job of `op` on this item. An item runs one job at a time, and promote starts the next
    operation only once the last one is over, so the current job (`jobName` "None" when idle) is a running
    operation's; for one that is over it is a later operation's (the migrate a clean-up's success started, its
    commit cut short), and the operation's own is the last finished one: before that migrate's, once it is over
    too."""
    props = _props(item)
    current = str((props.get("currentJob") or {}).get("jobName") or "")
    current = "" if current.lower() == "none" else current
    history = [str(h.get("jobName")) for h in props.get("criticalJobHistory") or [] if h.get("jobName")]
    if state == "running" and current:
        return current
    if op == CLEANUP and not current and _state(item, "migrationState") in (*MIGRATED, "migrationfailed"):
        history = history[:-1]
    return history[-1] if history else None


def _under_way(item: Any | None, op: str) -> str | None:
    """'running' / 'succeeded' / 'failed' when the item shows `op` under way or over, else None (not started)."""
    test, state = _state(item, "testMigrateState"), _state(item, "migrationState")
    if op == TEST_MIGRATE:
        if test == "testmigrationinprogress":
            return "running"
        return "failed" if test == "testmigrationfailed" else "succeeded" if test in TESTED else None
    if op == CLEANUP:
        if test == "testmigrationcleanupinprogress":
            return "running"
        return "succeeded" if test in ("", "none") else None
    if op == MIGRATE:
        if state == "migrationinprogress":
            return "running"
        return "succeeded" if state in MIGRATED else "failed" if state == "migrationfailed" else None
    if item is None:
        return "succeeded"  # completed: the item is gone
    return (
        "running" if state == "disablemigrationinprogress" else "failed" if state == "disablemigrationfailed" else None
    )


class AzureMigrator:
    def __init__(self, settings: Any):
        self.settings = settings

    def _client(self, vault: str) -> tuple[Any, str, str]:
        from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

        found = VAULT_ID.match(vault)
        if found is None:
            raise RoutingError(f"{vault!r} is not a Recovery Services vault id")
        subscription, group, name = found.groups()
        return _arm.client(SiteRecoveryManagementClient, self.settings, subscription), group, name

    def _items(self, vault: str) -> dict[str, Any]:
        client, group, name = self._client(vault)
        with _arm.arm_errors(f"Azure Migrate vault {name}", READ):
            return {_name(i).lower(): i for i in client.replication_migration_items.list(group, name)}

    def machines(self, vault: str) -> list[MachineState]:
        out = []
        for item in self._items(vault).values():
            props = _props(item)
            details = props.get("providerSpecificDetails") or {}
            tags = details.get("targetVmTags") or {}
            state = str(props.get("migrationState") or "")
            out.append(
                MachineState(
                    name=_name(item),
                    item=str(item.get("name")),
                    state=state,
                    replicated="TestMigrate" in (props.get("allowedOperations") or []) or state == "Replicating",
                    group=tags.get("group") or tags.get("Group"),
                    recovery_point=_received(details),
                )
            )
        return out

    def start(self, effect: AzureMigrate) -> list[str]:
        items = self._items(effect.vault)
        missing = [m for m in effect.machines if m.lower() not in items and effect.op != COMPLETE]
        if missing:
            raise RoutingError(f"Azure Migrate vault has no migration item for {', '.join(missing)}")
        client, group, vault = self._client(effect.vault)
        started = []
        for machine in effect.machines:
            item = items.get(machine.lower())
            if _under_way(item, effect.op) in ("running", "succeeded"):
                continue  # found: never started twice
            if effect.op == COMPLETE and _state(item, "migrationState") not in MIGRATED:
                raise RoutingError(
                    f"{machine}: not migrated ({_props(item).get('migrationState')}): completing would only stop "
                    "its replication"
                )
            allowed = _props(item).get("allowedOperations") or []
            if OPERATION[effect.op] not in allowed:
                raise RoutingError(
                    f"{machine}: Azure Migrate does not allow {OPERATION[effect.op]} now (migration "
                    f"{_props(item).get('migrationState')}, test migration {_props(item).get('testMigrateState')}; "
                    f"allowed: {', '.join(allowed) or 'nothing'})"
                )
            job = self._act(client, group, vault, item, effect)
            started.append(f"{machine} job {job}")
        return started

    def _act(self, client: Any, group: str, vault: str, item: Any, effect: AzureMigrate) -> str:
        found = _ITEM_ID.search(str(item.get("id")))
        if found is None:
            raise RoutingError(f"unexpected migration item id {item.get('id')}")
        fabric, container, name = found.groups()
        seen: dict[str, str] = {}

        def hook(response: Any) -> None:
            if response.http_request.method in ("POST", "DELETE"):
                seen["status"] = response.http_response.headers.get("Azure-AsyncOperation") or ""

        ops = client.replication_migration_items
        args = (group, vault, fabric, container, name)
        kw = {"polling": False, "raw_response_hook": hook}
        with _arm.arm_errors(f"Azure Migrate {OPERATION[effect.op]} of {_name(item)}", NEEDS[effect.op]):
            if effect.op == TEST_MIGRATE:
                point = (_props(item).get("providerSpecificDetails") or {}).get("lastRecoveryPointId")
                details = {"instanceType": "VMwareCbt", "recoveryPointId": point, "networkId": effect.network}
                ops.begin_test_migrate(*args, {"properties": {"providerSpecificDetails": details}}, **kw)
            elif effect.op == CLEANUP:
                ops.begin_test_migrate_cleanup(*args, {"properties": {"comments": "promote: rehearsal over"}}, **kw)
            elif effect.op == MIGRATE:
                details = {"instanceType": "VMwareCbt", "performShutdown": "true" if effect.shutdown else "false"}
                ops.begin_migrate(*args, {"properties": {"providerSpecificDetails": details}}, **kw)
            else:
                ops.begin_delete(*args, **kw)
        return seen.get("status", "").split("?")[0].rsplit("/", 1)[-1] or "unknown"

    def status(self, vault: str, machines: tuple[str, ...], op: str) -> OpStatus:
        items = self._items(vault)
        states = {m: _under_way(items.get(m.lower()), op) for m in machines}
        jobs = [j for m in machines if (i := items.get(m.lower())) is not None and (j := _job(i, op, states[m]))]
        job = ",".join(jobs) or None
        if any(s in (None, "running") for s in states.values()):
            return OpStatus("running", job)
        failed = [m for m, s in states.items() if s == "failed"]
        if not failed:
            return OpStatus("succeeded", job)
        client, group, name = self._client(vault)
        reasons = []
        for machine in failed:
            job_name = _job(items[machine.lower()], op, "failed")
            reasons.append(f"{machine}: {self._job_error(client, group, name, job_name)}")
        return OpStatus("failed", job, "; ".join(reasons))

    @staticmethod
    def _job_error(client: Any, group: str, vault: str, job_name: str | None) -> str:
        if not job_name:
            return "no job recorded"
        with _arm.arm_errors(f"Site Recovery job {job_name}", "Microsoft.RecoveryServices/vaults/replicationJobs/read"):
            job = client.replication_jobs.get(group, vault, job_name)
        props = job.get("properties") or {}
        said = []
        for error in props.get("errors") or []:
            service = (error.get("serviceErrorDetails") or {}).get("message")
            provider = (error.get("providerErrorDetails") or {}).get("errorMessage")
            for s in (service, provider):  # Azure often says the same in both: once
                if s and s not in said:
                    said.append(s)
        return f"job {job_name} {str(props.get('state', '')).lower()}: " + ("; ".join(said) or "no error given")
