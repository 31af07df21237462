"""A local Azure Resource Manager: the part of it promote's providers call, over HTTPS, for the real SDKs.

Resources are JSON documents keyed by their id; child resources (a pool of a load balancer, a route of a
table, a rule of a security group, an endpoint of a Traffic Manager profile) are views into their parent's
`properties.<collection>`, as in ARM. Microsoft.Network PUTs are long-running operations: 201 with an
`Azure-AsyncOperation` status URL that answers InProgress once, then Succeeded. Traffic Manager answers
synchronously. Unknown resources answer 404; `fail()` queues faults (403, 409, 429 with Retry-After ...).
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
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

# child segment (lower case) -> the parent's property holding the children, and the child's type suffix
CHILDREN = {"backendaddresspools": "backendAddressPools", "routes": "routes", "securityrules": "securityRules",
            "externalendpoints": "endpoints", "azureendpoints": "endpoints", "nestedendpoints": "endpoints"}
_RESOURCE = re.compile(r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.network/[^/]+/[^/]+"
                       r"(?:/[^/]+/[^/]+)?$", re.I)
_OPERATION = re.compile(r"^/subscriptions/[^/]+/providers/microsoft\.network/locations/[^/]+/operations/([^/]+)$", re.I)
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
class Request:
    method: str
    path: str
    api_version: str | None
    body: dict | None
    status: int = 0
    note: str = ""  # an async operation's reported status

    def __str__(self) -> str:
        body = "" if self.body is None else " " + json.dumps(self.body, separators=(",", ":"))
        return f"{self.method} {self.path} -> {self.status}{body}"

    def short(self) -> str:
        """One readable line: the path below Microsoft.Network, the status, what the body sets."""
        path = re.sub(r"operations/[^/]+$", "operations/{id}", self.path.split("/Microsoft.Network/", 1)[-1])
        line = f"{self.method} {path} {self.status}" + (f" {self.note}" if self.note else "")
        props = (self.body or {}).get("properties", {})
        if "loadBalancerBackendAddresses" in props:
            line += " addresses=" + ",".join(a["properties"]["ipAddress"] for a in props["loadBalancerBackendAddresses"])
        elif "nextHopIpAddress" in props:
            line += f" nextHopIpAddress={props['nextHopIpAddress']}"
        elif "requestRoutingRules" in props:
            line += " rules=" + ",".join(f"{r['name']}->{r['properties']['backendAddressPool']['id'].rsplit('/', 1)[-1]}"
                                         for r in props["requestRoutingRules"])
        elif self.body is not None:
            line += " " + json.dumps({k: v for k, v in props.items() if k != "description"}, sort_keys=True,
                                     separators=(",", ":"))
        return line


@dataclass
class FakeArm:
    """The state and behaviour; `serve()` puts it behind HTTPS."""

    lro_retry_after: str = "0.01"
    resources: dict[str, dict] = field(default_factory=dict)  # lower-case id -> document
    log: list[Request] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    operations: dict[str, int] = field(default_factory=dict)  # async operation id -> polls so far
    hooks: list[tuple[str, str, object]] = field(default_factory=list)  # (method, path part, fn) run once, after
    lock: threading.RLock = field(default_factory=threading.RLock)
    url: str = ""

    # -- test-side API ---------------------------------------------------------------------------
    def seed(self, doc: dict) -> None:
        with self.lock:
            self.resources[doc["id"].lower()] = copy.deepcopy(doc)

    def get(self, resource_id: str) -> dict:
        with self.lock:
            parent, child = self._locate(resource_id)
            return copy.deepcopy(child if child is not None else parent)

    def edit(self, resource_id: str, change) -> None:
        """An out-of-band change (someone in the portal): `change(document)` edits it in place."""
        with self.lock:
            parent, child = self._locate(resource_id)
            change(child if child is not None else parent)

    def fail(self, method: str, path_contains: str, status: int, *, times: int = 1, retry_after: str | None = None,
             code: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.faults.append(Fault(method, path_contains.lower(), status, times, headers,
                                 code or {403: "AuthorizationFailed", 409: "AnotherOperationInProgress",
                                          429: "TooManyRequests"}.get(status, "Failed")))

    def after(self, method: str, path_contains: str, change) -> None:
        """Once, right after a matching request is answered: `change(arm)` (someone else's edit in between)."""
        self.hooks.append((method, path_contains.lower(), change))

    def writes(self) -> list[Request]:
        return [r for r in self.log if r.method in ("PUT", "PATCH", "DELETE") and r.status < 300]

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()

    # -- request handling ------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: dict | None) -> tuple[int, dict, dict | None]:
        parts = urlsplit(target)
        path, query = parts.path.rstrip("/"), parse_qs(parts.query)
        request = Request(method, path, (query.get("api-version") or [None])[0], copy.deepcopy(body))
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
        for fault in self.faults:
            if fault.times and fault.method == method and fault.path_contains in path.lower():
                fault.times -= 1
                status, extra, payload = _error(fault.status, fault.code, f"injected {fault.status}")
                return status, {**extra, **fault.headers}, payload
        if m := _OPERATION.match(path):
            return self._operation(m.group(1))
        if not _RESOURCE.match(path):
            return _error(400, "InvalidRequestUri", f"not a resource this fake knows: {path}")
        try:
            parent, child = self._locate(path)
        except KeyError as missing:
            if method == "GET" or missing.args[0] == "parent":
                return _error(404, "ResourceNotFound" if missing.args[0] == "parent" else "NotFound",
                              f"The Resource '{path.split('/providers/')[1]}' was not found.")
            parent, child = self._locate(path, create=True)
        if method == "GET":
            return 200, {}, copy.deepcopy(child if child is not None else parent)
        if method == "PUT":
            current = (child if child is not None else parent).get("etag")
            if headers.get("if-match") not in (None, "*", current):
                return _error(412, "PreconditionFailed", f"Etag provided in if-match header {headers['if-match']} "
                                                         f"does not match etag {current} of resource {path}")
            return self._put(path, parent, child, body or {})
        if method == "PATCH":
            target = child if child is not None else parent
            _merge(target, body or {})
            target["etag"] = _etag()
            return 200, {}, copy.deepcopy(target)
        return _error(405, "MethodNotAllowed", method)

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
            if child["name"].lower() == name.lower() and (CHILDREN[kind] != "endpoints" or
                                                          child.get("type", "").lower().endswith("/" + kind)):
                return parent, child
        if not create:
            raise KeyError("child")
        child = {"id": "/".join([base, segments[8], name]), "name": name}
        children.append(child)
        return parent, child

    def _put(self, path, parent, child, body):
        target = child if child is not None else parent
        kept = {k: target[k] for k in READ_ONLY if k in target}
        old = copy.deepcopy(target)
        target.clear()
        target.update(body, id=old.get("id", path), name=old.get("name", path.rsplit("/", 1)[-1]))
        target.update({k: v for k, v in kept.items() if k not in body})
        _keep_read_only(old, target)
        target["etag"] = _etag()
        if child is not None:
            parent["etag"] = _etag()
        if "/microsoft.network/trafficmanagerprofiles/" in path.lower():
            return 200, {}, copy.deepcopy(target)
        target.setdefault("properties", {})["provisioningState"] = "Succeeded"
        operation = str(uuid.uuid4())
        self.operations[operation] = 0
        status_url = (f"{self.url}/subscriptions/{path.split('/')[2]}/providers/Microsoft.Network/locations/"
                      f"westeurope/operations/{operation}?api-version=2026-03-01")
        updating = copy.deepcopy(target)
        updating["properties"]["provisioningState"] = "Updating"
        return 201, {"Azure-AsyncOperation": status_url, "Retry-After": "1"}, updating

    def _operation(self, operation: str):
        if operation not in self.operations:
            return _error(404, "NotFound", f"operation {operation}")
        self.operations[operation] += 1
        status = "InProgress" if self.operations[operation] == 1 else "Succeeded"
        return 200, {"Retry-After": self.lro_retry_after}, {"status": status}

    # -- serving ---------------------------------------------------------------------------------
    def serve(self, cert: Path, key: Path) -> "Server":
        return Server(self, cert, key)


class Server:
    def __init__(self, arm: FakeArm, cert: Path, key: Path):
        handler = type("Handler", (_Handler,), {"arm": arm})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        arm.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


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
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)),
                            "x-ms-request-id": str(uuid.uuid4()), **out_headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, *args) -> None:  # quiet
        pass


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
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "fake-arm.pem", directory / "fake-arm.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
