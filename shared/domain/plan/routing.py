"""The plan's network sections: how each workload's users are routed (`routing`, one model per provider, told
apart by `provider`), and the migration team's access revoked at promotion (`revoke_access`).

The router factory and the providers take these models as they are (contract §7): a provider reads the fields
its own model declares, and mypy checks them.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, field_validator, model_validator

from shared.domain.plan.base import RESOURCE_GROUP, SUBSCRIPTION, Strict
from shared.domain.plan.edge import AzureFirewallRouting, DnsRouting, PrivateDnsRouting

PROVIDERS = (
    "local",
    "traffic-manager",
    "load-balancer",
    "application-gateway",
    "route-table",
    "front-door",
    "dns",
    "private-dns",
    "azure-firewall",
)
_FQDN = re.compile(
    r"^(?=.{1,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}"
    r"[a-zA-Z0-9])?$"
)


class AzureResource(Strict):
    subscription: str = Field(pattern=SUBSCRIPTION)
    resource_group: str = Field(min_length=1, max_length=90, pattern=RESOURCE_GROUP)


class LocalRouting(Strict):
    provider: Literal["local"] = "local"


class TrafficManagerRouting(AzureResource):
    provider: Literal["traffic-manager"]
    profile: str = Field(min_length=1, max_length=63)
    source_endpoint: str = Field(min_length=1, max_length=260)
    target_endpoint: str = Field(min_length=1, max_length=260)
    endpoint_type: Literal["azureEndpoints", "externalEndpoints", "nestedEndpoints"] = "externalEndpoints"


def _addresses(values: list[str]) -> list[str]:
    for value in values:
        ipaddress.ip_address(value)
    if len(set(values)) != len(values):
        raise ValueError("addresses must be unique")
    return values


class LoadBalancerRouting(AzureResource):
    provider: Literal["load-balancer"]
    load_balancer: str = Field(min_length=1, max_length=80)
    backend_pool: str = Field(min_length=1, max_length=80)
    source_addresses: list[str] = Field(min_length=1, max_length=100)
    target_addresses: list[str] = Field(min_length=1, max_length=100)
    # seconds Load Balancer waits before it resets the connections of an address promote removes
    # (the pool's drainPeriodInSeconds, set with each move)
    drain_period: int | None = Field(default=None, ge=1, le=86400)

    _check_addresses = field_validator("source_addresses", "target_addresses")(_addresses)

    @model_validator(mode="after")
    def _disjoint(self) -> LoadBalancerRouting:
        if set(self.source_addresses) & set(self.target_addresses):
            raise ValueError("source_addresses and target_addresses must not overlap")
        return self


def _backends(values: list[str] | None) -> list[str] | None:
    """IP addresses or host names (FQDNs): a gateway pool accepts both, on-premises ones included."""
    for value in values or []:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not _FQDN.match(value):
                raise ValueError(f"{value!r} is neither an IP address nor a host name") from None
    if values is not None and len(set(v.lower() for v in values)) != len(values):
        raise ValueError("addresses must be unique")
    return values


class ApplicationGatewayRouting(AzureResource):
    """The rule switches between the source and target pools at 0% and 100%; with `flight_pool`, shares in
    between point the rule at that one pool holding source and target addresses (round robin: by membership)."""

    provider: Literal["application-gateway"]
    application_gateway: str = Field(min_length=1, max_length=80)
    rule: str = Field(min_length=1, max_length=80)
    source_pool: str = Field(min_length=1, max_length=80)
    target_pool: str = Field(min_length=1, max_length=80)
    flight_pool: str | None = Field(default=None, min_length=1, max_length=80)
    source_addresses: list[str] | None = Field(default=None, min_length=1, max_length=100)
    target_addresses: list[str] | None = Field(default=None, min_length=1, max_length=100)

    _check_backends = field_validator("source_addresses", "target_addresses")(_backends)

    @model_validator(mode="after")
    def _flight_pool(self) -> ApplicationGatewayRouting:
        given = [f for f in ("flight_pool", "source_addresses", "target_addresses") if getattr(self, f) is not None]
        if given and len(given) != 3:
            raise ValueError("flight_pool, source_addresses and target_addresses go together (flights on one pool)")
        if self.flight_pool and self.flight_pool.lower() in (self.source_pool.lower(), self.target_pool.lower()):
            raise ValueError("flight_pool must be a pool of its own, not the source or target pool")
        if (
            self.source_addresses
            and self.target_addresses
            and {a.lower() for a in self.source_addresses} & {a.lower() for a in self.target_addresses}
        ):
            raise ValueError("source_addresses and target_addresses must not overlap")
        return self


class RouteTableRouting(AzureResource):
    provider: Literal["route-table"]
    route_table: str = Field(min_length=1, max_length=80)
    route: str = Field(min_length=1, max_length=80)
    source_next_hop: str
    target_next_hop: str

    _check_hops = field_validator("source_next_hop", "target_next_hop")(lambda v: (ipaddress.ip_address(v), v)[1])


class FrontDoorRouting(AzureResource):
    """Azure Front Door Standard/Premium: the weights of two origins of one origin group."""

    provider: Literal["front-door"]
    profile: str = Field(min_length=1, max_length=260)
    origin_group: str = Field(min_length=1, max_length=260)
    source_origin: str = Field(min_length=1, max_length=260)
    target_origin: str = Field(min_length=1, max_length=260)

    @model_validator(mode="after")
    def _two_origins(self) -> FrontDoorRouting:
        if self.source_origin.lower() == self.target_origin.lower():
            raise ValueError("source_origin and target_origin must be two different origins")
        return self


AzureRouting = (
    TrafficManagerRouting
    | LoadBalancerRouting
    | ApplicationGatewayRouting
    | RouteTableRouting
    | FrontDoorRouting
    | DnsRouting
    | PrivateDnsRouting
    | AzureFirewallRouting
)
Routing = Annotated[LocalRouting | AzureRouting, Field(discriminator="provider")]
ROUTING: TypeAdapter[Routing] = TypeAdapter(Routing)


class RevokeAccess(Strict):
    """Deny the migration team's network access at promotion (an NSG rule; `local` records it locally)."""

    provider: Literal["network-security-group", "local"] = "network-security-group"
    subscription: str | None = Field(default=None, pattern=SUBSCRIPTION)
    resource_group: str | None = None
    network_security_group: str | None = None
    rule: str = Field(default="deny-migration-team", min_length=1, max_length=80)
    priority: int = Field(default=100, ge=100, le=4096)
    source_prefixes: list[str] = Field(min_length=1)

    @field_validator("source_prefixes")
    @classmethod
    def _prefixes(cls, values: list[str]) -> list[str]:
        for value in values:
            ipaddress.ip_network(value, strict=False)
        return values

    @model_validator(mode="after")
    def _nsg_fields(self) -> RevokeAccess:
        if self.provider == "network-security-group":
            missing = [f for f in ("subscription", "resource_group", "network_security_group") if not getattr(self, f)]
            if missing:
                raise ValueError(f"network-security-group needs {', '.join(missing)}")
        return self
