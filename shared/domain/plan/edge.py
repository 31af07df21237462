"""The plan's edge routing sections (contract §17): a DNS record set (`dns`, `private-dns`) and an Azure
Firewall DNAT rule (`azure-firewall`). Each names its Azure resource by its resource id, as Azure shows it.

They realise 0% or 100% only (shares.py); `lower_ttl_to` is the TTL choreography of a DNS cutover: the
record's TTL is lowered at apply, the switch waits out the old TTL, and the original comes back at finalize.
"""

from __future__ import annotations

import ipaddress
import re
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from shared.domain.plan.base import Strict

MAX_TTL = 2_147_483_647  # Azure DNS: "any TTL value between 1 and 2,147,483,647 seconds"
_HOST = re.compile(
    r"^(?=.{1,253}\.?$)([a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}"
    r"[a-zA-Z0-9])?\.?$"
)
_RECORD = re.compile(r"^(@|\*|(\*\.)?[a-zA-Z0-9_](?:[a-zA-Z0-9_.-]{0,251}[a-zA-Z0-9_])?)$")
_ID = (
    r"^/subscriptions/(?P<subscription>[0-9a-fA-F-]{{36}})/resourceGroups/(?P<resource_group>[-\w._()]{{1,90}})"
    r"/providers/Microsoft\.Network/{kind}/(?P<name>[^/]{{1,260}})$"
)
DNS_ZONE = re.compile(_ID.format(kind="dnsZones"), re.IGNORECASE)
PRIVATE_DNS_ZONE = re.compile(_ID.format(kind="privateDnsZones"), re.IGNORECASE)
FIREWALL_POLICY = re.compile(_ID.format(kind="firewallPolicies"), re.IGNORECASE)


class _ById(Strict):
    """Settings naming their Azure resource by id: its subscription, group and name are read from the id."""

    _ID_PATTERN: ClassVar[re.Pattern[str]] = DNS_ZONE

    def _part(self, part: str) -> str:
        found = self._ID_PATTERN.match(self._id())
        assert found is not None, "checked when the plan was validated"
        return found.group(part)

    def _id(self) -> str:
        raise NotImplementedError

    @property
    def subscription(self) -> str:
        return self._part("subscription")

    @property
    def resource_group(self) -> str:
        return self._part("resource_group")


class _Record(_ById):
    """One record set of a zone, switched between the source and the target values (0% or 100%)."""

    zone: str = Field(min_length=1, max_length=1024)  # the zone's resource id
    record: str = Field(min_length=1, max_length=253)  # the relative name; '@' is the zone apex
    type: Literal["A", "AAAA", "CNAME"]
    source: list[str] = Field(min_length=1, max_length=20)  # the values users reach the system being left by
    target: list[str] = Field(min_length=1, max_length=20)  # ... and the migrated system by
    lower_ttl_to: int | None = Field(default=None, ge=1, le=MAX_TTL)

    def _id(self) -> str:
        return self.zone

    @property
    def zone_name(self) -> str:
        return self._part("name")

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        kind = "privateDnsZones" if cls._ID_PATTERN is PRIVATE_DNS_ZONE else "dnsZones"
        if not cls._ID_PATTERN.match(value):
            raise ValueError(
                f"must be the zone's resource id, /subscriptions/<id>/resourceGroups/<group>/providers/"
                f"Microsoft.Network/{kind}/<zone>"
            )
        return value

    @field_validator("record")
    @classmethod
    def _record(cls, value: str) -> str:
        if not _RECORD.match(value) or value.endswith("."):
            raise ValueError("must be the record's name relative to the zone ('@' for the zone apex)")
        return value

    @model_validator(mode="after")
    def _values(self) -> _Record:
        for side in ("source", "target"):
            values: list[str] = getattr(self, side)
            if self.type == "CNAME":
                if len(values) != 1 or not _HOST.match(values[0]):
                    raise ValueError(f"{side}: a CNAME record set holds exactly one host name")
            else:
                version = 4 if self.type == "A" else 6
                for value in values:
                    try:
                        address = ipaddress.ip_address(value)
                    except ValueError:
                        raise ValueError(f"{side}: {value!r} is not an IPv{version} address") from None
                    if address.version != version:
                        raise ValueError(f"{side}: {value!r} is not an IPv{version} address ({self.type} record)")
            if len({v.lower().rstrip(".") for v in values}) != len(values):
                raise ValueError(f"{side}: values must be unique")
        if {v.lower().rstrip(".") for v in self.source} == {v.lower().rstrip(".") for v in self.target}:
            raise ValueError("source and target must differ")
        if self.type == "CNAME" and self.record == "@":
            raise ValueError("a CNAME record set cannot be at the zone apex ('@'): Azure refuses it")
        return self


class DnsRouting(_Record):
    """Azure DNS (public zones, Microsoft.Network/dnsZones)."""

    provider: Literal["dns"]


class PrivateDnsRouting(_Record):
    """Azure Private DNS (Microsoft.Network/privateDnsZones), what resolvers of linked virtual networks answer."""

    _ID_PATTERN: ClassVar[re.Pattern[str]] = PRIVATE_DNS_ZONE
    provider: Literal["private-dns"]


class FirewallRuleRef(Strict):
    """A network rule of the same rule collection group whose destination addresses follow the DNAT rule."""

    rule_collection: str = Field(min_length=1, max_length=80)
    rule: str = Field(min_length=1, max_length=80)


class AzureFirewallRouting(_ById):
    """One DNAT rule of a firewall policy's rule collection group: its translatedAddress is the source address
    at 0% and the target address at 100%; each network rule listed has the one address in its destination
    addresses in the same way."""

    _ID_PATTERN: ClassVar[re.Pattern[str]] = FIREWALL_POLICY
    provider: Literal["azure-firewall"]
    policy: str = Field(min_length=1, max_length=1024)  # the firewall policy's resource id
    rule_collection_group: str = Field(min_length=1, max_length=80)
    rule_collection: str = Field(min_length=1, max_length=80)
    rule: str = Field(min_length=1, max_length=80)
    source: str
    target: str
    network_rules: list[FirewallRuleRef] = Field(default_factory=list, max_length=20)

    def _id(self) -> str:
        return self.policy

    @property
    def policy_name(self) -> str:
        return self._part("name")

    @field_validator("policy")
    @classmethod
    def _policy(cls, value: str) -> str:
        if not FIREWALL_POLICY.match(value):
            raise ValueError(
                "must be the firewall policy's resource id, /subscriptions/<id>/resourceGroups/<group>/providers/"
                "Microsoft.Network/firewallPolicies/<policy>"
            )
        return value

    @field_validator("source", "target")
    @classmethod
    def _address(cls, value: str) -> str:
        ipaddress.ip_address(value)
        return value

    @model_validator(mode="after")
    def _differ(self) -> AzureFirewallRouting:
        if ipaddress.ip_address(self.source) == ipaddress.ip_address(self.target):
            raise ValueError("source and target must be two different addresses")
        refs = [(r.rule_collection.lower(), r.rule.lower()) for r in self.network_rules]
        if len(set(refs)) != len(refs):
            raise ValueError("network_rules: each rule once")
        return self
