"""A local Resource Manager for Azure Migrate's agentless migration: a Recovery Services vault's migration
items (Microsoft.RecoveryServices replicationMigrationItems) and their Site Recovery jobs, over HTTPS for the
real azure-mgmt-recoveryservicessiterecovery 2.x client (api-version 2025-08-01).

As strict as Azure where promote could get it wrong (research: /work/scratch/migrate/NOTES.md, the REST spec
and its examples, Az.Migrate's cmdlets):
- a bearer token and an api-version are required; an unknown vault or item is a 404;
- every action (testMigrate, testMigrateCleanup, migrate, DELETE = complete migration) is long-running: 202
  with `Azure-AsyncOperation` (and `Location`) naming `replicationOperationStatus/<job name>`, Retry-After;
- an action answers only while the item's `allowedOperations` lists it (computed from `migrationState` and
  `testMigrateState` as the portal documents): nothing but stop replication during initial seeding, no test
  migration or migration while a test migration is not cleaned up, nothing while a job runs; refused with 400
  OperationNotAllowed (the code Azure sends here is UNCONFIRMED; Az.Migrate checks allowedOperations first);
- testMigrate needs `recoveryPointId` and `networkId`, migrate a string `performShutdown` (VMwareCbt);
- a job runs until the test side ends it: succeeded, failed (with errors) or cancelled;
- `fail()` queues faults (429 with Retry-After, 503) for the next matching requests.
Every request is logged so tests can see what was started.
"""

from __future__ import annotations

import copy
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.https_server import HttpsServer
from tests.routing.fake_arm import _error, _Handler

API = "2025-08-01"
_VAULT = r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)/providers/microsoft\.recoveryservices/vaults/([^/]+)"
_LIST = re.compile(_VAULT + r"/replicationmigrationitems$", re.I)
_ITEM = re.compile(
    _VAULT + r"/replicationfabrics/([^/]+)/replicationprotectioncontainers/([^/]+)/replicationmigrationitems/"
    r"([^/]+)(?:/(testmigrate|testmigratecleanup|migrate))?$",
    re.I,
)
_JOB = re.compile(_VAULT + r"/replication(jobs|operationstatus)/([^/]+)$", re.I)
PAGE = 2
ACTION = {"testmigrate": "TestMigrate", "testmigratecleanup": "TestMigrateCleanup", "migrate": "Migrate"}
BUSY = ("TestMigrationInProgress", "TestMigrationCleanupInProgress")
TESTED = ("TestMigrationSucceeded", "TestMigrationFailed", "TestMigrationCompletedWithInformation",
          "TestMigrationPartiallySucceeded")  # fmt: skip


def allowed(item: dict) -> list[str]:
    """allowedOperations as the service computes them from the item's states."""
    p = item["properties"]
    state, test = p["migrationState"], p["testMigrateState"]
    if state in ("MigrationInProgress", "DisableMigrationInProgress") or test in BUSY:
        return []
    if state in ("InitialSeedingInProgress", "EnableMigrationInProgress", "InitialSeedingFailed"):
        return ["DisableMigration"]
    if state in ("MigrationSucceeded", "MigrationCompletedWithInformation", "MigrationPartiallySucceeded"):
        return ["DisableMigration"] + (["TestMigrateCleanup"] if test in TESTED else [])
    if test in TESTED:  # a test migration must be cleaned up before the next one, or a migration
        return ["TestMigrateCleanup", "DisableMigration"]
    return ["TestMigrate", "Migrate", "DisableMigration"]  # Replicating (delta sync), MigrationFailed


@dataclass
class Call:
    method: str
    path: str
    status: int
    body: dict | None = None


@dataclass
class Fault:
    method: str
    contains: str
    status: int
    times: int
    retry_after: str | None


@dataclass
class FakeVault:
    items: dict[str, dict] = field(default_factory=dict)  # lower-case item path -> item
    vaults: set[str] = field(default_factory=set)  # lower-case vault ids
    jobs: dict[str, dict] = field(default_factory=dict)  # job name -> job
    log: list[Call] = field(default_factory=list)
    actions: list[tuple[str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    url: str = ""

    # test-side ----------------------------------------------------------------------------------
    def add_vault(self, vault: str) -> None:
        self.vaults.add(vault.lower())

    def add_machine(self, vault: str, machine: str, *, state: str = "Replicating", tags: dict | None = None) -> str:
        """A migration item for `machine` (its friendly name), in delta sync unless `state` says otherwise."""
        self.add_vault(vault)
        name = f"{machine}-{uuid.uuid4().hex[:8]}"
        container = f"{vault}/replicationFabrics/fabric-vmware/replicationProtectionContainers/container-1"
        path = f"{container}/replicationMigrationItems/{name}"
        rp = f"{path}/migrationRecoveryPoints/{uuid.uuid4()}"
        self.items[path.lower()] = {
            "id": path,
            "name": name,
            "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/"
            "replicationMigrationItems",
            "properties": {
                "machineName": machine,
                "migrationState": state,
                "migrationStateDescription": state,
                "testMigrateState": "None",
                "health": "Normal",
                "allowedOperations": [],
                "providerSpecificDetails": {
                    "instanceType": "VMwareCbt",
                    "vmwareMachineId": machine,
                    # no recovery point before the first delta cycle (initial seeding)
                    **(
                        {"lastRecoveryPointId": rp, "lastRecoveryPointReceived": "2026-11-26T21:55:00.1234567Z"}
                        if state == "Replicating"
                        else {}
                    ),  # fmt: skip
                    "initialSeedingProgressPercentage": 100 if state == "Replicating" else 40,
                    "targetVmTags": tags or {},
                },
            },
        }
        return path

    def item(self, machine: str) -> dict:
        return next(i for i in self.items.values() if i["properties"]["machineName"] == machine)

    def recovery_point(self, machine: str, received: str) -> None:
        """A delta replication cycle ended: a new recovery point, received at `received` (ISO 8601, as Azure)."""
        details = self.item(machine)["properties"]["providerSpecificDetails"]
        details["lastRecoveryPointId"] = f"{self.item(machine)['id']}/migrationRecoveryPoints/{uuid.uuid4()}"
        details["lastRecoveryPointReceived"] = received

    def set_state(self, machine: str, state: str) -> None:
        self.item(machine)["properties"]["migrationState"] = state

    def started(self) -> list[tuple[str, str]]:
        """(machine, operation) of every action accepted, in order."""
        return list(self.actions)

    def end_jobs(self, scenario: str, state: str = "Succeeded", error: str = "") -> None:
        """Every running job of `scenario` (TestMigrate, TestMigrateCleanup, Migrate, DisableMigration) ends."""
        with self.lock:
            for job in self.jobs.values():
                p = job["properties"]
                if p["scenarioName"] == scenario and p["state"] == "InProgress":
                    self._end(job, state, error)

    def end_job(self, name: str, state: str = "Succeeded", error: str = "") -> None:
        """One job ends (Azure's side of a test that ends jobs one at a time)."""
        with self.lock:
            self._end(self.jobs[name], state, error)

    def fail(self, method: str, contains: str, status: int, times: int = 1, retry_after: str | None = None):
        self.faults.append(Fault(method, contains.lower(), status, times, retry_after))

    # requests -----------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: dict | None):
        parts = urlsplit(target)
        path, query = parts.path.rstrip("/"), parse_qs(parts.query)
        with self.lock:
            status, out_headers, payload = self._respond(method, path, query, headers, body)
            self.log.append(Call(method, path, status, body))
            return status, out_headers, payload

    def _respond(self, method, path, query, headers, body):
        if not headers.get("authorization", "").startswith("Bearer "):
            return _error(401, "AuthenticationFailed", "no bearer token")
        if query.get("api-version") != [API]:
            return _error(400, "InvalidApiVersionParameter", f"api-version must be {API}")
        for fault in self.faults:
            if fault.times and fault.method == method and fault.contains in path.lower():
                fault.times -= 1
                headers_out = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                code = "TooManyRequests" if fault.status == 429 else "ServiceUnavailable"
                status, _, payload = _error(fault.status, code, "injected")
                return status, headers_out, payload
        vault_of = re.match(_VAULT, path, re.I)
        if vault_of is None or vault_of.group(0).lower() not in self.vaults:
            return _error(404, "ResourceNotFound", f"The Resource vault of '{path}' was not found.")
        if m := _LIST.match(path):
            return self._list(method, path, query)
        if m := _JOB.match(path):
            return self._job(method, m.group(4).lower(), m.group(5))
        if m := _ITEM.match(path):
            return self._item(method, path, m.group(7), body, query)
        return _error(400, "InvalidRequestUri", f"not a resource this fake knows: {path}")

    def _view(self, item: dict) -> dict:
        out = copy.deepcopy(item)
        out["properties"]["allowedOperations"] = allowed(item)
        return out

    def _list(self, method, path, query):
        if method != "GET":
            return _error(405, "MethodNotAllowed", method)
        vault = path.rsplit("/", 1)[0].lower()
        items = [self._view(i) for p, i in sorted(self.items.items()) if p.startswith(vault + "/")]
        start = int((query.get("skipToken") or ["0"])[0])
        page: dict = {"value": items[start : start + PAGE]}
        if start + PAGE < len(items):
            page["nextLink"] = f"{self.url}{path}?api-version={API}&skipToken={start + PAGE}"
        return 200, {}, page

    def _item(self, method, path, action, body, query):
        item_path = path.rsplit("/", 1)[0] if action else path
        item = self.items.get(item_path.lower())
        if item is None:
            return _error(404, "ResourceNotFound", f"The migration item '{item_path}' was not found.")
        if method == "GET" and not action:
            return 200, {}, self._view(item)
        operation = "DisableMigration" if method == "DELETE" and not action else ACTION.get((action or "").lower())
        if operation is None or (method == "POST") != bool(action):
            return _error(405, "MethodNotAllowed", f"{method} {action}")
        if operation not in allowed(item):
            p = item["properties"]
            return _error(
                400,
                "OperationNotAllowed",
                f"{operation} is not allowed for the migration item in state {p['migrationState']} (test migration "
                f"{p['testMigrateState']}); allowed: {', '.join(allowed(item)) or 'none'}",
            )
        problem = self._input(operation, body)
        if problem:
            return _error(400, "InvalidInput", problem)
        return self._start(item, item_path, operation)

    @staticmethod
    def _input(operation: str, body: dict | None) -> str | None:
        details = ((body or {}).get("properties") or {}).get("providerSpecificDetails") or {}
        if operation == "TestMigrate":
            if (
                details.get("instanceType") != "VMwareCbt"
                or not details.get("recoveryPointId")
                or not details.get("networkId")
            ):
                return "testMigrate needs providerSpecificDetails {instanceType: VMwareCbt, recoveryPointId, networkId}"
        if operation == "Migrate" and (
            details.get("instanceType") != "VMwareCbt" or details.get("performShutdown") not in ("true", "false")
        ):
            return "migrate needs providerSpecificDetails {instanceType: VMwareCbt, performShutdown: 'true'|'false'}"
        if operation == "TestMigrateCleanup" and not isinstance((body or {}).get("properties"), dict):
            return "testMigrateCleanup needs properties"
        return None

    def _start(self, item: dict, item_path: str, operation: str):
        name = str(uuid.uuid4())
        p = item["properties"]
        self.actions.append((p["machineName"], operation))
        self.jobs[name] = {
            "id": f"{item_path.split('/replicationFabrics')[0]}/replicationJobs/{name}",
            "name": name,
            "properties": {
                "scenarioName": operation,
                "state": "InProgress",
                "targetObjectName": p["machineName"],
                "errors": [],
                "item": item_path.lower(),
            },  # fmt: skip
        }
        if operation == "TestMigrate":
            p["testMigrateState"] = "TestMigrationInProgress"
        elif operation == "TestMigrateCleanup":
            p["testMigrateState"] = "TestMigrationCleanupInProgress"
        elif operation == "Migrate":
            p["migrationState"] = "MigrationInProgress"
        else:
            p["migrationState"] = "DisableMigrationInProgress"
        p["currentJob"] = {"jobName": name, "jobId": self.jobs[name]["id"],
                          "startTime": datetime.now(UTC).isoformat()}  # fmt: skip
        vault = item_path.split("/replicationFabrics")[0]
        status = f"{self.url}{vault}/replicationOperationStatus/{name}?api-version={API}"
        return 202, {"Azure-AsyncOperation": status, "Location": status, "Retry-After": "0"}, None

    def _end(self, job: dict, state: str, error: str) -> None:
        p = job["properties"]
        p["state"] = state
        if error:
            p["errors"] = [{"serviceErrorDetails": {"code": "MigrationFailed", "message": error},
                            "providerErrorDetails": {"errorMessage": error}}]  # fmt: skip
        item = self.items.get(p["item"])
        if item is None:
            return
        ip, ok = item["properties"], state == "Succeeded"
        # idle: jobName "None" (the REST examples, Get-AzMigrateServerReplication's "CurrentJobName : None")
        ip["currentJob"] = {
            "jobName": "None",
            "jobId": f"{p['item'].split('/replicationfabrics')[0]}/replicationJobs/None",
        }
        ip.setdefault("criticalJobHistory", []).append({"jobName": job["name"], "jobStatus": state})
        scenario = p["scenarioName"]
        if scenario == "TestMigrate":
            ip["testMigrateState"] = "TestMigrationSucceeded" if ok else "TestMigrationFailed"
        elif scenario == "TestMigrateCleanup":
            ip["testMigrateState"] = "None" if ok else "TestMigrationSucceeded"
        elif scenario == "Migrate":
            ip["migrationState"] = "MigrationSucceeded" if ok else "MigrationFailed"
        elif ok:
            del self.items[p["item"]]  # completed: replication stopped, the item is gone
        else:
            ip["migrationState"] = "DisableMigrationFailed"

    def _job(self, method, kind, name):
        job = self.jobs.get(name)
        if method != "GET":
            return _error(405, "MethodNotAllowed", method)
        if job is None:
            return _error(404, "ResourceNotFound", f"job {name} not found")
        if kind == "operationstatus":  # the action was accepted: the operation is done, the job runs on
            return 200, {}, {"name": name, "status": "Succeeded"}
        out = copy.deepcopy(job)
        out["properties"].pop("item")
        return 200, {}, out

    def serve(self, cert: Path, key: Path) -> HttpsServer:
        server = HttpsServer(type("Handler", (_PostHandler,), {"arm": self}), cert, key)
        self.url = server.url
        return server


class _PostHandler(_Handler):
    do_POST = _Handler._serve
