"""A local Resource Manager for what §8 calls: Microsoft.Compute virtual machines (instance view, powerOff,
deallocate) and Microsoft.RecoveryServices replication protected items, over HTTPS for the real SDK clients.

As strict as Azure where promote could get it wrong: a bearer token is required, an unknown VM or vault is a
404, powerOff of a VM that is not running is refused (409 OperationNotAllowed), POST actions are long-running
(202 with Azure-AsyncOperation and Location; the status answers InProgress once, then Succeeded), lists page
with nextLink. Every request is logged so tests can see what was read and what was changed.
"""

from __future__ import annotations

import copy
import re
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.https_server import HttpsServer
from tests.routing.fake_arm import _error, _Handler

_VM = re.compile(
    r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)/providers/microsoft\.compute/virtualmachines/([^/]+)"
    r"(?:/(instanceview|poweroff|deallocate|start))?$",
    re.I,
)
_ITEMS = re.compile(
    r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)/providers/microsoft\.recoveryservices/vaults/"
    r"([^/]+)/replicationprotecteditems$",
    re.I,
)
_OPERATION = re.compile(r"^/subscriptions/[^/]+/providers/microsoft\.compute/locations/[^/]+/operations/([^/]+)$", re.I)
PAGE = 2  # items per page of a protected-items list (small, so paging is exercised)


@dataclass
class Call:
    method: str
    path: str
    status: int


@dataclass
class FakeAzure:
    vms: dict[str, str] = field(default_factory=dict)  # lower-case VM id -> power state (running, stopped, ...)
    vaults: dict[str, list[dict]] = field(default_factory=dict)  # lower-case vault id -> protected items
    operations: dict[str, int] = field(default_factory=dict)
    log: list[Call] = field(default_factory=list)
    down: int = 0  # answer the next N requests with 503
    lock: threading.RLock = field(default_factory=threading.RLock)
    url: str = ""

    # test-side ----------------------------------------------------------------------------------
    def add_vm(self, vm_id: str, state: str = "running") -> None:
        self.vms[vm_id.lower()] = state

    def state(self, vm_id: str) -> str:
        return self.vms[vm_id.lower()]

    def actions(self) -> list[str]:
        """The changes made: 'poweroff <vm>' / 'deallocate <vm>' for each accepted POST."""
        return [
            f"{c.method.lower()} {c.path.rsplit('/', 2)[-1].lower()} {c.path.rsplit('/', 2)[-2]}"
            for c in self.log
            if c.method == "POST" and c.status == 202
        ]

    def add_vault(self, vault_id: str, items: list[dict]) -> None:
        self.vaults[vault_id.lower()] = copy.deepcopy(items)

    # requests -----------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: dict | None):
        parts = urlsplit(target)
        path, query = parts.path.rstrip("/"), parse_qs(parts.query)
        with self.lock:
            status, out_headers, payload = self._respond(method, path, query, headers)
            self.log.append(Call(method, path, status))
            return status, out_headers, payload

    def _respond(self, method, path, query, headers):
        if not headers.get("authorization", "").startswith("Bearer "):
            return _error(401, "AuthenticationFailed", "no bearer token")
        if self.down:
            self.down -= 1
            return _error(503, "ServiceUnavailable", "injected outage")
        if "api-version" not in query:
            return _error(400, "MissingApiVersionParameter", "The api-version query parameter is required")
        if m := _OPERATION.match(path):
            return self._operation(m.group(1))
        if m := _VM.match(path):
            return self._vm(method, path, m.group(4))
        if m := _ITEMS.match(path):
            return self._items(method, path, query)
        return _error(400, "InvalidRequestUri", f"not a resource this fake knows: {path}")

    def _vm(self, method: str, path: str, action: str | None):
        vm_id = path.rsplit("/", 1)[0] if action else path
        state = self.vms.get(vm_id.lower())
        if state is None:
            return _error(404, "ResourceNotFound", f"The Resource '{vm_id}' was not found.")
        action = (action or "").lower()
        if method == "GET" and action == "instanceview":
            return (
                200,
                {},
                {
                    "statuses": [
                        {
                            "code": "ProvisioningState/succeeded",
                            "level": "Info",
                            "displayStatus": "Provisioning succeeded",
                        },
                        {"code": f"PowerState/{state}", "level": "Info", "displayStatus": f"VM {state}"},
                    ]
                },
            )
        if method == "POST" and action == "poweroff":
            if state != "running":
                return _error(409, "OperationNotAllowed", f"Cannot power off the VM: it is {state}")
            self.vms[vm_id.lower()] = "stopped"
            return self._accepted(path)
        if method == "POST" and action == "deallocate":
            self.vms[vm_id.lower()] = "deallocated"
            return self._accepted(path)
        return _error(405, "MethodNotAllowed", f"{method} {action}")

    def _accepted(self, path: str):
        operation = str(uuid.uuid4())
        self.operations[operation] = 0
        subscription = path.split("/")[2]
        status_url = (
            f"{self.url}/subscriptions/{subscription}/providers/Microsoft.Compute/locations/westeurope/"
            f"operations/{operation}?api-version=2024-07-01"
        )
        return 202, {"Azure-AsyncOperation": status_url, "Location": status_url, "Retry-After": "0"}, None

    def _operation(self, operation: str):
        if operation not in self.operations:
            return _error(404, "NotFound", f"operation {operation}")
        self.operations[operation] += 1
        status = "InProgress" if self.operations[operation] == 1 else "Succeeded"
        return 200, {"Retry-After": "0.01"}, {"name": operation, "status": status}

    def _items(self, method: str, path: str, query):
        if method != "GET":
            return _error(405, "MethodNotAllowed", method)
        vault = path.rsplit("/", 1)[0].lower()
        if vault not in self.vaults:
            return _error(404, "ResourceNotFound", f"The Resource '{path.rsplit('/', 1)[0]}' was not found.")
        items = self.vaults[vault]
        start = int((query.get("$skipToken") or ["0"])[0])
        page = {"value": copy.deepcopy(items[start : start + PAGE])}
        if start + PAGE < len(items):
            page["nextLink"] = f"{self.url}{path}?api-version={query['api-version'][0]}&$skipToken={start + PAGE}"
        return 200, {}, page

    def serve(self, cert: Path, key: Path) -> HttpsServer:
        server = HttpsServer(type("Handler", (_PostHandler,), {"arm": self}), cert, key)
        self.url = server.url
        return server


class _PostHandler(_Handler):
    do_POST = _Handler._serve


def protected_item(
    name: str,
    friendly: str,
    *,
    state: str = "Protected",
    health: str = "Normal",
    rpo: int | None = 30,
    rpo_at: str | None = "2026-11-26T22:00:00Z",
    kind: str = "A2A",
) -> dict:
    """A replication protected item as Resource Manager returns it (api-version 2025-08-01)."""
    details: dict = {"instanceType": kind}
    rpo_key = "lastRpoInSeconds" if kind == "InMageRcm" else "rpoInSeconds"
    if rpo is not None:
        details[rpo_key] = rpo
    if rpo_at is not None:
        details["lastRpoCalculatedTime"] = rpo_at
    return {
        "id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/"
        f"replicationFabrics/f/replicationProtectionContainers/c/replicationProtectedItems/{name}",
        "name": name,
        "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/"
        "replicationProtectedItems",
        "properties": {
            "friendlyName": friendly,
            "protectionState": state,
            "protectionStateDescription": state,
            "replicationHealth": health,
            "providerSpecificDetails": details,
        },
    }
