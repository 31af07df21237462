"""A local Azure Resource Manager: the part of it promote's providers call, over HTTPS, for the real SDKs.

Resources are JSON documents keyed by their id; child resources (a pool of a load balancer, a route of a
table, a rule of a security group, an endpoint of a Traffic Manager profile) are views into their parent's
`properties.<collection>`, as in ARM. Microsoft.Network PUTs are long-running operations: 201 with an
`Azure-AsyncOperation` status URL that answers InProgress once, then Succeeded. Traffic Manager answers
synchronously. Front Door (Microsoft.Cdn) profiles, origin groups and origins are documents of their own; an
origin PATCH answers 202 with an operation, as Azure does. Unknown resources answer 404; `fail()` queues
faults (403, 409, 429 with Retry-After ...), `fail_operation()` makes an operation end Failed or Canceled.
As strict as Azure where promote depends on it: a write with a stale If-Match (or If-None-Match: * on an
existing resource) is refused with 412; a security rule whose priority and direction clash with another
rule of its group is refused (SecurityRuleConflict); Traffic Manager and Front Door weights outside 1-1000
are refused; an out-of-band `edit()` changes the ETag, as any write in Azure does.
Resource Manager's own budget is enforced as Azure does: a token bucket per principal (bearer token),
subscription and kind (writes: 200, refilled 10 a second; reads, which include an operation's status polls:
250, refilled 25 a second); a request finding its bucket empty is refused with 429
SubscriptionRequestsThrottled and a Retry-After of whole seconds, and changes nothing (`budget` sets the
figures, `throttled` counts the refusals).
Every request is logged with its body. The SDK polls the status URL once right away, then waits for the
status response's Retry-After: real ARM sends whole seconds there, a fraction (which the poller accepts; the
PUT's own Retry-After must be an integer) keeps the tests fast.
"""

from __future__ import annotations

import copy
import datetime
import ipaddress
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from shared.domain.budget import TokenBucket, retry_after
from tests.https_server import HttpsServer
from tests.routing.fake_edge import Edge

# child segment (lower case) -> the parent's property holding the children, and the child's type suffix
CHILDREN = {
    "backendaddresspools": "backendAddressPools",
    "routes": "routes",
    "securityrules": "securityRules",
    "externalendpoints": "endpoints",
    "azureendpoints": "endpoints",
    "nestedendpoints": "endpoints",
}
_RESOURCE = re.compile(
    r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.network/[^/]+/[^/]+"
    r"(?:/[^/]+/[^/]+)?$",
    re.I,
)
_OPERATION = re.compile(
    r"^/subscriptions/[^/]+/providers/microsoft\.(?:network/locations/[^/]+/operations|"
    r"cdn/operationresults)/([^/]+)$",
    re.I,
)
_CDN = re.compile(
    r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.cdn/profiles/[^/]+"
    r"(?:/origingroups/[^/]+(?:/origins(?:/[^/]+)?)?)?$",
    re.I,
)
# read-only fields the SDK leaves out of a PUT; ARM keeps them (on the resource and on its sub-objects)
READ_ONLY = ("etag", "type")
READ_ONLY_PROPERTIES = ("provisioningState", "operationalState", "resourceGuid")


@dataclass
class Fault:
    method: str
    path_contains: str
    status: int
    times: int
    headers: dict[str, str]
    code: str


@dataclass
class OperationFault:
    path_contains: str
    status: str  # Failed | Canceled
    error: dict
    times: int


@dataclass
class Request:
    method: str
    path: str
    api_version: str | None
    body: dict | None
    status: int = 0
    note: str = ""  # an async operation's reported status
    headers: dict[str, str] = field(default_factory=dict)  # the conditional headers sent (If-Match ...)

    def __str__(self) -> str:
        body = "" if self.body is None else " " + json.dumps(self.body, separators=(",", ":"))
        return f"{self.method} {self.path} -> {self.status}{body}"

    def short(self) -> str:
        """One readable line: the path below Microsoft.Network, the status, what the body sets."""
        path = re.sub(r"operations/[^/]+$", "operations/{id}", self.path.split("/Microsoft.Network/", 1)[-1])
        path = path.split("/Microsoft.Cdn/", 1)[-1]
        line = f"{self.method} {path} {self.status}" + (f" {self.note}" if self.note else "")
        line += "".join(f" [{k}: {v}]" for k, v in sorted(self.headers.items()))
        props = (self.body or {}).get("properties", {})
        if "loadBalancerBackendAddresses" in props:
            line += " addresses=" + ",".join(
                a["properties"]["ipAddress"] for a in props["loadBalancerBackendAddresses"]
            )
        elif "nextHopIpAddress" in props:
            line += f" nextHopIpAddress={props['nextHopIpAddress']}"
        elif "requestRoutingRules" in props:
            line += " rules=" + ",".join(
                f"{r['name']}->{r['properties']['backendAddressPool']['id'].rsplit('/', 1)[-1]}"
                for r in props["requestRoutingRules"]
            )
        elif self.body is not None:
            line += " " + json.dumps(
                {k: v for k, v in props.items() if k != "description"}, sort_keys=True, separators=(",", ":")
            )
        return line


@dataclass
class ArmBudget:
    """Resource Manager's buckets, per principal, subscription and kind (Azure's documented figures)."""

    writes_per_s: float = 10.0
    write_burst: int = 200
    reads_per_s: float = 25.0
    read_burst: int = 250
    clock: Callable[[], float] = time.monotonic


@dataclass
class FakeArm:
    """The state and behaviour; `serve()` puts it behind HTTPS."""

    lro_retry_after: str = "0.01"
    resources: dict[str, dict] = field(default_factory=dict)  # lower-case id -> document
    log: list[Request] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    operations: dict[str, int] = field(default_factory=dict)  # async operation id -> polls so far
    operation_faults: list[OperationFault] = field(default_factory=list)
    failing: dict[str, tuple[str, dict]] = field(default_factory=dict)  # operation id -> (status, error)
    hooks: list[tuple[str, str, object]] = field(default_factory=list)  # (method, path part, fn) run once, after
    lock: threading.RLock = field(default_factory=threading.RLock)
    url: str = ""
    edge: Edge = field(default_factory=Edge)  # DNS zones, Private DNS zones, firewall policies (fake_edge.py)
    budget: ArmBudget = field(default_factory=ArmBudget)
    buckets: dict[tuple[str, str, str], TokenBucket] = field(default_factory=dict)
    throttled: int = 0  # requests refused with 429 for an empty bucket

    # -- test-side API ---------------------------------------------------------------------------
    def seed(self, doc: dict) -> None:
        with self.lock:
            self.resources[doc["id"].lower()] = copy.deepcopy(doc)

    def get(self, resource_id: str) -> dict:
        with self.lock:
            if resource_id.lower() in self.resources:  # a top-level or Front Door document
                return copy.deepcopy(self.resources[resource_id.lower()])
            parent, child = self._locate(resource_id)
            return copy.deepcopy(child if child is not None else parent)

    def edit(self, resource_id: str, change) -> None:
        """An out-of-band change (someone in the portal): `change(document)` edits it in place; like any write
        in Azure it gives the resource (and a child's parent) a new ETag, where the resource has one."""
        with self.lock:
            if resource_id.lower() in self.resources:
                parent, child = self.resources[resource_id.lower()], None
            else:
                parent, child = self._locate(resource_id)
            target = child if child is not None else parent
            before = target.get("etag")
            change(target)
            if before is not None and target.get("etag") == before:  # DNS's ETags are bare GUIDs
                target["etag"] = _etag() if str(before).startswith("W/") else str(uuid.uuid4())
                if child is not None and "etag" in parent:
                    parent["etag"] = _etag()

    def fail_operation(
        self,
        path_contains: str,
        status: str = "Failed",
        *,
        code: str = "InternalServerError",
        message: str = "An error occurred.",
        details: list[dict] | None = None,
        times: int = 1,
    ) -> None:
        """The next write matching `path_contains` starts an operation that ends `status` (Failed or Canceled)
        with Azure's error body; the change is not made."""
        error = {"code": code, "message": message, **({"details": details} if details else {})}
        self.operation_faults.append(OperationFault(path_contains.lower(), status, error, times))

    def fail(
        self,
        method: str,
        path_contains: str,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        code: str | None = None,
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.faults.append(
            Fault(
                method,
                path_contains.lower(),
                status,
                times,
                headers,
                code
                or {403: "AuthorizationFailed", 409: "AnotherOperationInProgress", 429: "TooManyRequests"}.get(
                    status, "Failed"
                ),
            )
        )

    def after(self, method: str, path_contains: str, change) -> None:
        """Once, right after a matching request is answered: `change(arm)` (someone else's edit in between)."""
        self.hooks.append((method, path_contains.lower(), change))

    def writes(self) -> list[Request]:
        return [r for r in self.log if r.method in ("PUT", "PATCH", "DELETE") and r.status < 300]

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()

    # -- request handling ------------------------------------------------------------------------
    def handle(
        self, method: str, target: str, headers: dict[str, str], body: dict | None
    ) -> tuple[int, dict, dict | None]:
        parts = urlsplit(target)
        path, query = parts.path.rstrip("/"), parse_qs(parts.query)
        conditional = {k: v for k, v in headers.items() if k in ("if-match", "if-none-match")}
        request = Request(
            method,
            path,
            (query.get("api-version") or [None])[0],
            copy.deepcopy(body),
            headers={k.title(): v for k, v in conditional.items()},
        )
        with self.lock:
            self.log.append(request)
            status, out_headers, out_body = self._respond(method, path, headers, body)
            request.status = status
            if _OPERATION.match(path) and out_body:
                request.note = out_body.get("status", "")
            for hook in [h for h in self.hooks if h[0] == method and h[1] in path.lower()][:1]:
                self.hooks.remove(hook)
                hook[2](self)
            return status, out_headers, out_body

    def _respond(self, method, path, headers, body):
        if not headers.get("authorization", "").startswith("Bearer "):
            return _error(401, "AuthenticationFailed", "no bearer token")
        refused = self._spend(method, path, headers["authorization"])
        if refused:
            return refused
        for fault in self.faults:
            if fault.times and fault.method == method and fault.path_contains in path.lower():
                fault.times -= 1
                status, extra, payload = _error(fault.status, fault.code, f"injected {fault.status}")
                return status, {**extra, **fault.headers}, payload
        if m := _OPERATION.match(path):
            return self._operation(m.group(1))
        if self.edge.owns(path):
            return self.edge.respond(self, method, path, headers, body)
        if _CDN.match(path):
            return self._cdn(method, path, headers, body)
        if not _RESOURCE.match(path):
            return _error(400, "InvalidRequestUri", f"not a resource this fake knows: {path}")
        try:
            parent, child = self._locate(path)
        except KeyError as missing:
            if method == "GET" or missing.args[0] == "parent":
                return _error(
                    404,
                    "ResourceNotFound" if missing.args[0] == "parent" else "NotFound",
                    f"The Resource '{path.split('/providers/')[1]}' was not found.",
                )
            parent, child = self._locate(path, create=True)
        if method == "GET":
            return 200, {}, copy.deepcopy(child if child is not None else parent)
        existed = not (child is not None and set(child) == {"id", "name"})  # not just made by _locate(create)
        target = child if child is not None else parent
        if method in ("PUT", "PATCH"):
            stale = _precondition(headers, target.get("etag") if existed else None, existed, path)
            if stale:
                if not existed and child is not None:
                    parent["properties"][CHILDREN[path.split("/")[-2].lower()]].remove(child)
                return stale
            refused = _validate(path, parent, child, body or {})
            if refused:
                if not existed and child is not None:
                    parent["properties"][CHILDREN[path.split("/")[-2].lower()]].remove(child)
                return refused
        if method == "PUT":
            return self._put(path, parent, child, body or {})
        if method == "PATCH":
            _merge(target, body or {})
            if "etag" in target:
                target["etag"] = _etag()
            return 200, {}, copy.deepcopy(target)
        return _error(405, "MethodNotAllowed", method)

    def _spend(self, method: str, path: str, principal: str) -> tuple[int, dict, dict] | None:
        """A token from the caller's bucket, or Azure's 429 with how long until there is one."""
        kind = "write" if method in ("PUT", "PATCH", "DELETE") else "read"
        segments = path.split("/")
        subscription = segments[2].lower() if len(segments) > 2 and segments[1].lower() == "subscriptions" else ""
        b = self.budget
        rate, burst = (b.writes_per_s, b.write_burst) if kind == "write" else (b.reads_per_s, b.read_burst)
        now = b.clock()
        bucket = self.buckets.setdefault((principal, subscription, kind), TokenBucket.full(rate, burst, now))
        wait = bucket.take(now)
        if not wait:
            return None
        self.throttled += 1
        seconds = retry_after(wait)
        status, _, body = _error(
            429,
            "SubscriptionRequestsThrottled",
            f"Number of '{kind}' requests for subscription '{subscription}' actor 'promote' exceeded. "
            f"Please try again after '{seconds}' seconds after additional tokens are available.",
        )
        return status, {"Retry-After": str(seconds), f"x-ms-ratelimit-remaining-subscription-{kind}s": "0"}, body

    def _locate(self, path: str, create: bool = False) -> tuple[dict, dict | None]:
        """(parent document, child document or None); KeyError('parent' | 'child') when missing."""
        segments = path.strip("/").split("/")
        base = "/" + "/".join(segments[:8])
        parent = self.resources.get(base.lower())
        if parent is None:
            raise KeyError("parent")
        if len(segments) == 8:
            return parent, None
        kind, name = segments[8].lower(), segments[9]
        children = parent.setdefault("properties", {}).setdefault(CHILDREN[kind], [])
        for child in children:
            if child["name"].lower() == name.lower() and (
                CHILDREN[kind] != "endpoints" or child.get("type", "").lower().endswith("/" + kind)
            ):
                return parent, child
        if not create:
            raise KeyError("child")
        child = {"id": "/".join([base, segments[8], name]), "name": name}
        children.append(child)
        return parent, child

    def _put(self, path, parent, child, body):
        target = child if child is not None else parent
        fault = self._operation_fault(path)
        if fault is not None and "/microsoft.network/trafficmanagerprofiles/" not in path.lower():
            if set(target) == {"id", "name"} and child is not None:  # a create that fails leaves nothing behind
                parent["properties"][CHILDREN[path.split("/")[-2].lower()]].remove(child)
            return self._start_operation(path, fault, copy.deepcopy(target))
        kept = {k: target[k] for k in READ_ONLY if k in target}
        old = copy.deepcopy(target)
        target.clear()
        target.update(body, id=old.get("id", path), name=old.get("name", path.rsplit("/", 1)[-1]))
        target.update({k: v for k, v in kept.items() if k not in body})
        _keep_read_only(old, target)
        target["etag"] = _etag()
        if child is not None:
            parent["etag"] = _etag()
        else:
            _new_etags_of_changed_children(old, target)
        if "/microsoft.network/trafficmanagerprofiles/" in path.lower():
            return 200, {}, copy.deepcopy(target)
        target.setdefault("properties", {})["provisioningState"] = "Succeeded"
        return self._start_operation(path, None, copy.deepcopy(target))

    def _operation_fault(self, path: str) -> OperationFault | None:
        for fault in self.operation_faults:
            if fault.times and fault.path_contains in path.lower():
                fault.times -= 1
                return fault
        return None

    def _start_operation(self, path: str, fault: OperationFault | None, doc: dict, status: int = 201):
        operation = str(uuid.uuid4())
        self.operations[operation] = 0
        if fault is not None:
            self.failing[operation] = (fault.status, fault.error)
        sub = path.split("/")[2]
        if "/microsoft.cdn/" in path.lower():
            status_url = f"{self.url}/subscriptions/{sub}/providers/Microsoft.Cdn/operationresults/{operation}"
        else:
            network = f"{self.url}/subscriptions/{sub}/providers/Microsoft.Network"
            status_url = f"{network}/locations/westeurope/operations/{operation}"
        status_url += "?api-version=2026-03-01"
        doc.setdefault("properties", {})["provisioningState"] = "Updating"
        headers = {"Azure-AsyncOperation": status_url, "Retry-After": "1"}
        if status == 202:
            headers["Location"] = status_url
        return status, headers, doc

    def _operation(self, operation: str):
        edge = self.edge.operation(operation)
        if edge is not None:
            return 200, ({"Retry-After": self.lro_retry_after} if edge["status"] == "InProgress" else {}), edge
        if operation not in self.operations:
            return _error(404, "NotFound", f"operation {operation}")
        self.operations[operation] += 1
        if self.operations[operation] == 1:
            return 200, {"Retry-After": self.lro_retry_after}, {"status": "InProgress"}
        if operation in self.failing:
            status, error = self.failing[operation]
            return 200, {}, {"id": operation, "status": status, "error": error}
        return 200, {}, {"status": "Succeeded"}

    # -- Front Door (Microsoft.Cdn): every level is a document of its own --------------------------
    def _cdn(self, method: str, path: str, headers: dict, body: dict | None):
        key = path.lower()
        if method == "GET" and key.endswith("/origins"):
            prefix = key + "/"
            return (
                200,
                {},
                {
                    "value": [
                        copy.deepcopy(d)
                        for k, d in sorted(self.resources.items())
                        if k.startswith(prefix) and "/" not in k[len(prefix) :]
                    ]
                },
            )
        parent = key.rsplit("/", 2)[0] if key.count("/") > 8 else None
        if parent is not None and parent.endswith("/origins"):
            parent = parent.rsplit("/", 1)[0]
        if key not in self.resources:
            if method != "PUT" or (parent is not None and parent not in self.resources):
                return _error(404, "NotFound", f"The Resource '{path.split('/providers/')[1]}' was not found.")
        if method == "GET":
            return 200, {}, copy.deepcopy(self.resources[key])
        if method not in ("PUT", "PATCH"):
            return _error(405, "MethodNotAllowed", method)
        props = (body or {}).get("properties", {})
        weight = props.get("weight")
        if weight is not None and not (isinstance(weight, int) and 1 <= weight <= 1000):
            return _error(400, "BadRequest", f"Property 'weight' must be between 1 and 1000, got {weight}.")
        if props.get("enabledState") not in (None, "Enabled", "Disabled"):
            return _error(400, "BadRequest", "Property 'enabledState' must be Enabled or Disabled.")
        fault = self._operation_fault(path)
        if fault is not None:
            return self._start_operation(path, fault, copy.deepcopy(self.resources.get(key, {})), status=202)
        if method == "PUT":
            old = self.resources.get(key, {})
            doc = {
                **copy.deepcopy(body or {}),
                "id": old.get("id", path),
                "name": path.rsplit("/", 1)[-1],
                "type": old.get("type"),
            }
            self.resources[key] = doc
        else:
            _merge(self.resources[key], body or {})
        self.resources[key].setdefault("properties", {})["provisioningState"] = "Succeeded"
        return self._start_operation(path, None, copy.deepcopy(self.resources[key]), status=202)

    # -- serving ---------------------------------------------------------------------------------
    def serve(self, cert: Path, key: Path) -> HttpsServer:
        server = HttpsServer(type("Handler", (_Handler,), {"arm": self}), cert, key)
        self.url = server.url
        return server


class _Handler(BaseHTTPRequestHandler):
    arm: FakeArm
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, out_headers, payload = self.arm.handle(self.command, self.path, headers, body)
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {
            "Content-Type": "application/json",
            "Content-Length": str(len(data)),
            "x-ms-request-id": str(uuid.uuid4()),
            **out_headers,
        }.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, *args) -> None:  # quiet
        pass


def _precondition(headers: dict, etag: str | None, existed: bool, path: str) -> tuple[int, dict, dict] | None:
    """412 for a conditional write whose condition does not hold, as Resource Manager answers it."""
    match, none_match = headers.get("if-match"), headers.get("if-none-match")
    if match is not None and match != "*" and match != etag:
        return _error(
            412,
            "PreconditionFailed",
            f"Etag provided in if-match header {match} does not match "
            f"etag {etag} of resource {path} in NRP data store.",
        )
    if match == "*" and not existed:
        return _error(412, "PreconditionFailed", f"The resource {path} does not exist (if-match: *).")
    if none_match == "*" and existed:
        return _error(412, "PreconditionFailed", f"The resource {path} already exists (if-none-match: *).")
    return None


def _validate(path: str, parent: dict, child: dict | None, body: dict) -> tuple[int, dict, dict] | None:
    """What Azure refuses of a write promote makes: clashing security rules, weights outside 1-1000."""
    lower, props = path.lower(), body.get("properties", {})
    if "/securityrules/" in lower and child is not None:
        priority, direction = props.get("priority"), str(props.get("direction", "")).lower()
        if not isinstance(priority, int) or not 100 <= priority <= 4096:
            return _error(
                400,
                "SecurityRuleInvalidPriority",
                f"Security rule {child['name']} has invalid Priority. Value provided: {priority}. "
                "Allowed range 100-4096.",
            )
        for other in parent["properties"].get("securityRules", []):
            theirs = other.get("properties", {})
            if (
                other is not child
                and theirs.get("priority") == priority
                and str(theirs.get("direction", "")).lower() == direction
            ):
                return _error(
                    400,
                    "SecurityRuleConflict",
                    f"Security rule {other['name']} conflicts with rule {child['name']}. Rules cannot "
                    "have the same Priority and Direction. To learn more, see aka.ms/nsgrules.",
                )
    if "/microsoft.network/trafficmanagerprofiles/" in lower and child is not None and "weight" in props:
        weight = props["weight"]
        if not isinstance(weight, int) or not 1 <= weight <= 1000:
            return _error(
                400,
                "BadRequest",
                f"The weight of endpoint '{child['name']}' must be an integer between 1 and 1000; got {weight}.",
            )
    return None


def _error(status: int, code: str, message: str) -> tuple[int, dict, dict]:
    return status, {}, {"error": {"code": code, "message": message}}


def _etag() -> str:
    return f'W/"{uuid.uuid4()}"'


def _merge(target: dict, patch: dict) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _new_etags_of_changed_children(old: dict, new: dict) -> None:
    """A child written through its parent's PUT (a route in its table's) gets a new ETag, as any write gives
    it: a writer holding the child's old ETag is refused (412), not let through."""
    before = {
        str(c.get("id", "")).lower(): c.get("properties")
        for kind in set(CHILDREN.values())
        for c in old.get("properties", {}).get(kind, [])
    }
    for kind in set(CHILDREN.values()):
        for c in new.get("properties", {}).get(kind, []):
            if before.get(str(c.get("id", "")).lower()) != c.get("properties"):
                c["etag"] = _etag()


def _keep_read_only(old: dict, new: dict) -> None:
    """ARM keeps the read-only fields a PUT leaves out, of the resource and of its sub-objects."""
    by_id: dict[str, dict] = {}

    def index(node):
        if isinstance(node, dict):
            if isinstance(node.get("id"), str) and "name" in node:  # an object, not a reference to one
                by_id[node["id"].lower()] = node
            for v in node.values():
                index(v)
        elif isinstance(node, list):
            for v in node:
                index(v)

    def restore(node):
        if isinstance(node, dict):
            before = by_id.get(str(node.get("id", "")).lower()) if "name" in node else None
            if before is not None:
                for k in READ_ONLY:
                    if k in before and k not in node:
                        node[k] = before[k]
                if isinstance(node.get("properties"), dict):
                    for k in READ_ONLY_PROPERTIES:
                        if k in before.get("properties", {}):
                            node["properties"].setdefault(k, before["properties"][k])
            for v in node.values():
                restore(v)
        elif isinstance(node, list):
            for v in node:
                restore(v)

    index(old)
    restore(new)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made now (the `cryptography` package comes with azure-identity)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-arm.local")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fake-arm.pem", directory / "fake-arm.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path
