"""The local Resource Manager's DNS zones, Private DNS zones and firewall policies (fake_arm.FakeArm uses it).

As strict as Azure where promote depends on it (Azure DNS / Private DNS REST specs 2018-05-01 and 2024-06-01 and
"DNS zones and records"; Azure Firewall policy rule collection groups; field reports of the errors quoted):
- record sets (`{zone}/{TYPE}/{name}`, TYPE one of A, AAAA, CNAME, ...): PUT is synchronous (200 updated,
  201 created) and gives a new bare-GUID ETag; `If-Match: <etag>` must equal it exactly (412 otherwise; a
  quoted `"<etag>"` is refused too, since Azure does not document that it matches), `If-Match: *` needs the
  record set, `If-None-Match: *` its absence; other If-None-Match values are ignored. Public zones spell
  the body `TTL`, `ARecords`, `AAAARecords`, `CNAMERecord`; private ones `ttl`, `aRecords`, `aaaaRecords`,
  `cnameRecord` (what is spelled otherwise is not a known property and is dropped). A TTL outside 1 to
  2,147,483,647 is refused (400), as are records of another type than the path's, a malformed address, a
  CNAME record set with no or more than one value or at the apex ('@'), and a CNAME where another type of
  record set has the name (or the reverse): 409 Conflict with Azure's message.
- firewall policies and their rule collection groups (documents of their own): a group's PUT replaces it,
  is a long-running operation (201 + Azure-AsyncOperation) that keeps the policy and the group `Updating`
  until it ends (after `update_seconds`); a write to any group of a policy that is updating is refused with
  409 AnotherOperationInProgress; `busy(policy, seconds)` makes a policy busy meanwhile (someone else's
  update). If-Match must equal the group's ETag (412 otherwise). Rule collections and rules are checked
  (types, priorities 100-65000, a NAT rule's translated address or FQDN and port).
"""

from __future__ import annotations

import copy
import ipaddress
import re
import time
import uuid
from dataclasses import dataclass, field

ZONE = re.compile(
    r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.network/(dnszones|privatednszones)/[^/]+"
    r"(?:/[^/]+/[^/]+)?$",
    re.I,
)
POLICY = re.compile(
    r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.network/firewallpolicies/[^/]+"
    r"(?:/rulecollectiongroups/[^/]+)?$",
    re.I,
)
MAX_TTL = 2_147_483_647
PUBLIC = {"ttl": "TTL", "a": "ARecords", "aaaa": "AAAARecords", "cname": "CNAMERecord"}
PRIVATE = {"ttl": "ttl", "a": "aRecords", "aaaa": "aaaaRecords", "cname": "cnameRecord"}
RECORD_PROPERTIES = {
    "public": {"metadata", "TTL", "ARecords", "AAAARecords", "CNAMERecord", "MXRecords", "NSRecords", "PTRRecords",
               "SRVRecords", "TXTRecords", "SOARecord", "caaRecords", "targetResource"},
    "private": {"metadata", "ttl", "aRecords", "aaaaRecords", "cnameRecord", "mxRecords", "ptrRecords",
                "soaRecord", "srvRecords", "txtRecords"},
}  # fmt: skip


def error(status: int, code: str, message: str) -> tuple[int, dict, dict]:
    return status, {}, {"error": {"code": code, "message": message}}


@dataclass
class Operation:
    policy: str  # lower-case id of the policy it locks
    group: str
    done_at: float


@dataclass
class Edge:
    """The state of the zones and policies; FakeArm hands it the requests whose path it owns."""

    update_seconds: float = 0.05  # how long a firewall policy update takes
    operations: dict[str, Operation] = field(default_factory=dict)
    busy_until: dict[str, float] = field(default_factory=dict)  # policy -> someone else's update ends then

    @staticmethod
    def owns(path: str) -> bool:
        return bool(ZONE.match(path) or POLICY.match(path))

    def busy(self, policy_id: str, seconds: float) -> None:
        self.busy_until[policy_id.lower()] = time.monotonic() + seconds

    # -- requests ----------------------------------------------------------------------------------
    def respond(self, arm, method: str, path: str, headers: dict, body: dict | None):
        if ZONE.match(path):
            return self._zone(arm, method, path, headers, body or {})
        return self._policy(arm, method, path, headers, body or {})

    def operation(self, operation_id: str):
        """The status of a firewall policy operation, or None for another kind of operation."""
        op = self.operations.get(operation_id)
        if op is None:
            return None
        return {"status": "InProgress" if time.monotonic() < op.done_at else "Succeeded"}

    # -- DNS record sets ---------------------------------------------------------------------------
    def _zone(self, arm, method, path, headers, body):
        segments = path.strip("/").split("/")
        zone_id = "/" + "/".join(segments[:8])
        zone = arm.resources.get(zone_id.lower())
        private = segments[6].lower() == "privatednszones"
        if len(segments) == 8:  # the zone itself
            if zone is None:
                return error(404, "ResourceNotFound", f"The Resource '{'/'.join(segments[5:8])}' was not found.")
            return (200, {}, copy.deepcopy(zone)) if method == "GET" else error(405, "MethodNotAllowed", method)
        if zone is None:
            return error(404, "ParentResourceNotFound", f"Can not perform requested operation on nested resource. "
                         f"Parent resource '{segments[7]}' not found.")  # fmt: skip
        kind, name = segments[8].upper(), segments[9]
        key = path.lower()
        existing = arm.resources.get(key)
        if method == "GET":
            if existing is None:
                return error(404, "NotFound", f"The resource record '{name}' does not exist in resource group "
                             f"'{segments[3]}' of subscription '{segments[1]}'.")  # fmt: skip
            return 200, {}, copy.deepcopy(existing)
        if method not in ("PUT", "PATCH"):
            return error(405, "MethodNotAllowed", method)
        stale = _precondition(headers, existing)
        if stale:
            return stale
        props = dict((existing or {}).get("properties", {})) if method == "PATCH" else {}
        props.update((body.get("properties") or {}) if isinstance(body.get("properties"), dict) else {})
        known = RECORD_PROPERTIES["private" if private else "public"]
        props = {k: v for k, v in props.items() if k in known}  # read-only and misspelt properties are dropped
        refused = _record(kind, name, props, PRIVATE if private else PUBLIC)
        if refused:
            return refused
        clash = self._cname_clash(arm, zone_id, kind, name)
        if clash and existing is None:
            return clash
        type_ = f"Microsoft.Network/{'privateDnsZones' if private else 'dnszones'}/{kind}"
        zone_name = segments[7]
        props.update(fqdn=f"{zone_name}." if name == "@" else f"{name}.{zone_name}.", provisioningState="Succeeded")
        if private:
            props["isAutoRegistered"] = False
        doc = {"id": (existing or {}).get("id", path), "name": name, "type": type_, "etag": str(uuid.uuid4()),
               "properties": props}  # fmt: skip
        arm.resources[key] = doc
        return (200 if existing is not None else 201), {}, copy.deepcopy(doc)

    @staticmethod
    def _cname_clash(arm, zone_id: str, kind: str, name: str):
        """A CNAME record set and a record set of another type cannot share a name (409 Conflict)."""
        prefix = zone_id.lower() + "/"
        others = [
            k.split("/")[-2].upper()
            for k in arm.resources
            if k.startswith(prefix) and k.split("/")[-1] == name.lower() and k.split("/")[-2].upper() != kind
        ]
        if kind == "CNAME" and others:
            return error(409, "Conflict", "The CNAME record could not be created because another record with "
                         "the same name already exists in this zone.")  # fmt: skip
        if "CNAME" in others:
            return error(409, "Conflict", "The record could not be created because a CNAME record with the "
                         "same name already exists in this zone.")  # fmt: skip
        return None

    # -- firewall policies -------------------------------------------------------------------------
    def _policy(self, arm, method, path, headers, body):
        segments = path.strip("/").split("/")
        policy_id = ("/" + "/".join(segments[:8])).lower()
        policy = arm.resources.get(policy_id)
        if policy is None:
            return error(404, "ResourceNotFound", f"The Resource '{'/'.join(segments[5:8])}' was not found.")
        self._settle(arm, policy_id)
        if len(segments) == 8:
            return (200, {}, copy.deepcopy(policy)) if method == "GET" else error(405, "MethodNotAllowed", method)
        key = path.lower()
        existing = arm.resources.get(key)
        if method == "GET":
            if existing is None:
                return error(404, "NotFound", f"Rule collection group {segments[9]} not found.")
            return 200, {}, copy.deepcopy(existing)
        if method != "PUT":
            return error(405, "MethodNotAllowed", method)
        if self._locked(policy_id):
            return error(409, "AnotherOperationInProgress", "Another operation on this or dependent resource is "
                         "in progress. To retrieve status of the operation use uri: "
                         f"{arm.url}/subscriptions/{segments[1]}/providers/Microsoft.Network/locations/westeurope/"
                         f"operations/{uuid.uuid4()}?api-version=2026-03-01.")  # fmt: skip
        stale = _precondition(headers, existing)
        if stale:
            return stale
        props = copy.deepcopy(body.get("properties") or {})
        refused = _group(segments[9], props)
        if refused:
            return refused
        props.pop("size", None)
        props["provisioningState"] = "Updating"
        doc = {"id": (existing or {}).get("id", path), "name": segments[9], "etag": f'W/"{uuid.uuid4()}"',
               "type": "Microsoft.Network/FirewallPolicies/RuleCollectionGroups", "properties": props}  # fmt: skip
        arm.resources[key] = doc
        policy.setdefault("properties", {})["provisioningState"] = "Updating"
        refs = policy["properties"].setdefault("ruleCollectionGroups", [])
        if not any(r["id"].lower() == key for r in refs):
            refs.append({"id": doc["id"]})
        operation = str(uuid.uuid4())
        self.operations[operation] = Operation(policy_id, key, time.monotonic() + self.update_seconds)
        status_url = (
            f"{arm.url}/subscriptions/{segments[1]}/providers/Microsoft.Network/locations/westeurope/operations/"
            f"{operation}?api-version=2026-03-01"
        )
        return (201 if existing is None else 200), {"Azure-AsyncOperation": status_url, "Retry-After": "1"}, \
            copy.deepcopy(doc)  # fmt: skip

    def _locked(self, policy_id: str) -> bool:
        now = time.monotonic()
        return self.busy_until.get(policy_id, 0) > now or any(
            op.policy == policy_id and op.done_at > now for op in self.operations.values()
        )

    def _settle(self, arm, policy_id: str) -> None:
        """Operations that ended leave their group, and the policy once none is left, Succeeded."""
        now = time.monotonic()
        for op in self.operations.values():
            if op.policy == policy_id and op.done_at <= now and op.group in arm.resources:
                arm.resources[op.group]["properties"]["provisioningState"] = "Succeeded"
        if not self._locked(policy_id):
            arm.resources[policy_id].setdefault("properties", {})["provisioningState"] = "Succeeded"
        else:
            arm.resources[policy_id].setdefault("properties", {})["provisioningState"] = "Updating"


def _precondition(headers: dict, existing: dict | None):
    match, none_match = headers.get("if-match"), headers.get("if-none-match")
    etag = (existing or {}).get("etag")
    if match is not None and match != "*" and (existing is None or match != etag):
        return error(412, "PreconditionFailed", f"The condition '{match}' in the If-Match header was not satisfied. "
                     f"The current was '{etag}'.")  # fmt: skip
    if match == "*" and existing is None:
        return error(412, "PreconditionFailed", "The condition '*' in the If-Match header was not satisfied.")
    if none_match == "*" and existing is not None:
        return error(412, "PreconditionFailed", "The condition '*' in the If-None-Match header was satisfied.")
    return None


def _record(kind: str, name: str, props: dict, keys: dict):
    ttl = props.get(keys["ttl"])
    if ttl is not None and not (isinstance(ttl, int) and 1 <= ttl <= MAX_TTL):
        return error(400, "BadRequest", f"The value '{ttl}' for TTL is invalid. TTL must be between 1 and {MAX_TTL}.")
    types = {"A": keys["a"], "AAAA": keys["aaaa"], "CNAME": keys["cname"]}
    for other, prop in types.items():
        if other != kind and props.get(prop):
            return error(400, "BadRequest", f"A record set of type {kind} cannot hold {other} records ({prop}).")
    if kind == "A":
        for record in props.get(keys["a"]) or []:
            if not _address(record.get("ipv4Address"), 4):
                return error(400, "BadRequest", f"The IPv4 address '{record.get('ipv4Address')}' is invalid.")
    if kind == "AAAA":
        for record in props.get(keys["aaaa"]) or []:
            if not _address(record.get("ipv6Address"), 6):
                return error(400, "BadRequest", f"The IPv6 address '{record.get('ipv6Address')}' is invalid.")
    if kind == "CNAME":
        if name == "@":
            return error(400, "BadRequest", "A CNAME record set cannot be created at the zone apex.")
        cname = (props.get(keys["cname"]) or {}).get("cname")
        if not cname:
            return error(400, "BadRequest", "A CNAME record set must hold exactly one CNAME record.")
    return None


def _address(value, version: int) -> bool:
    try:
        return ipaddress.ip_address(value).version == version
    except (TypeError, ValueError):
        return False


NAT, FILTER = "FirewallPolicyNatRuleCollection", "FirewallPolicyFilterRuleCollection"


def _group(name: str, props: dict):
    def bad(message: str):
        return error(400, "FirewallPolicyRuleCollectionGroupInvalid", f"Rule collection group {name}: {message}")

    priority = props.get("priority")
    if not isinstance(priority, int) or not 100 <= priority <= 65000:
        return bad(f"priority {priority} is not between 100 and 65000")
    names = set()
    for collection in props.get("ruleCollections") or []:
        kind, cname = collection.get("ruleCollectionType"), collection.get("name")
        if cname in names:
            return bad(f"rule collection {cname} appears twice")
        names.add(cname)
        if not isinstance(collection.get("priority"), int) or not 100 <= collection["priority"] <= 65000:
            return bad(f"rule collection {cname}: priority {collection.get('priority')} is not between 100 and 65000")
        action = (collection.get("action") or {}).get("type")
        if kind == NAT and action != "DNAT" or kind == FILTER and action not in ("Allow", "Deny"):
            return bad(f"rule collection {cname}: action {action} is not valid for {kind}")
        if kind not in (NAT, FILTER):
            return bad(f"rule collection {cname}: unknown ruleCollectionType {kind}")
        for rule in collection.get("rules") or []:
            refused = _rule(kind, cname, rule)
            if refused:
                return bad(refused)
    return None


def _rule(kind: str, collection: str, rule: dict) -> str | None:
    where = f"rule {rule.get('name')} of {collection}"
    rule_type = rule.get("ruleType")
    if kind == NAT and rule_type != "NatRule" or kind == FILTER and rule_type not in ("NetworkRule", "ApplicationRule"):
        return f"{where}: a {rule_type} cannot be in a {kind}"
    if rule_type == "NatRule":
        address, fqdn = rule.get("translatedAddress"), rule.get("translatedFqdn")
        if bool(address) == bool(fqdn):
            return f"{where}: exactly one of translatedAddress and translatedFqdn is needed"
        if address and not _address(address, ipaddress.ip_address(address).version if _ip(address) else 4):
            return f"{where}: translatedAddress {address} is not an IP address"
        if not rule.get("translatedPort"):
            return f"{where}: translatedPort is needed"
    if rule_type == "NetworkRule":
        for address in rule.get("destinationAddresses") or []:
            if address != "*" and not _ip(address.split("/")[0]):
                return f"{where}: destination address {address} is invalid"
    return None


def _ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False
