"""application-gateway: which backend pool one request routing rule sends users to, and (for flights) the
membership of one pool holding source and target addresses.

0% and 100%: the rule points at the source or the target pool. With `flight_pool`, a share in between points
the rule at that pool, whose members are the plan's source and target addresses (IPs or FQDNs, on-premises
ones included) in the ratio nearest the share: the gateway round-robins requests within a pool, so every
member counts, members the plan does not name included (a move they would distort is refused, naming them).

Reads the gateway, changes the rule and the flight pool, and PUTs the gateway back as it was read (the SDK's
models keep every property, even ones it does not know), so other rules, listeners, pools and settings stay
as they are. The PUT carries If-Match with the ETag read: a gateway changed by someone else in between is
refused (412), not overwritten; promote reads it again and re-applies its change on top (a bounded number of
times).
"""

from __future__ import annotations

from typing import Any

from shared.adapters.routing import _arm
from shared.adapters.routing._arm import ArmSettings
from shared.domain.errors import RoutingError
from shared.domain.plan import ApplicationGatewayRouting
from shared.domain.plan.shares import pool_addresses, realisable_share
from shared.domain.routing import Change, foreign_refusal, lb_members, lb_value, resource, settings, true_share

NEEDS = (
    "Microsoft.Network/applicationGateways/read and /write on the gateway, plus the join actions its "
    "PUT re-checks (Microsoft.Network/virtualNetworks/subnets/join/action on its subnet, "
    "Microsoft.Network/publicIPAddresses/join/action on its public IP)"
)


class ApplicationGatewayRouter:
    def __init__(self, routing: ApplicationGatewayRouting, client: Any):
        self.routing, self.client = routing, client
        self.resource = resource(routing)
        self.property = next(iter(settings(routing, 0)))
        self.flight_pool = routing.flight_pool
        sources, targets = pool_addresses(routing) if self.flight_pool else ([], [])
        self.targets = targets  # the flight pool's target addresses, as the plan spells them
        self.owned = {a.lower(): a for a in sources + targets}  # lower case -> as the plan spells it

    def describe(self) -> str:
        return self.resource

    def _gateway(self) -> Any:
        with _arm.arm_errors(self.resource, NEEDS):
            return self.client.application_gateways.get(self.routing.resource_group, self.routing.application_gateway)

    def _rule(self, gateway: Any) -> Any:
        rule = next((x for x in gateway.request_routing_rules or [] if x.name == self.routing.rule), None)
        if rule is None:
            raise RoutingError(f"{self.resource}: has no request routing rule {self.routing.rule!r}")
        if rule.backend_address_pool is None:
            raise RoutingError(
                f"{self.resource}: rule {self.routing.rule!r} names no backend pool "
                "(path-based or redirect rules are not switched by promote)"
            )
        return rule

    def _pool_name(self, gateway: Any) -> str:
        return self._rule(gateway).backend_address_pool.id.rstrip("/").rsplit("/", 1)[-1]

    def _pool(self, gateway: Any, name: str) -> Any:
        pool = next((p for p in gateway.backend_address_pools or [] if p.name.lower() == name.lower()), None)
        if pool is None:
            raise RoutingError(f"{self.resource}: has no backend pool {name!r}")
        return pool

    # the flight pool's members -----------------------------------------------------------------------
    @staticmethod
    def _address(member: Any) -> str:
        return member.ip_address or member.fqdn or "?"

    def _members(self, pool: Any) -> tuple[list[str], list[str]]:
        """(the plan's addresses in the pool, as the plan spells them; the members the plan does not name)."""
        ours, foreign = [], []
        for member in pool.backend_addresses or []:
            address = self._address(member)
            (ours.append(self.owned[address.lower()]) if address.lower() in self.owned else foreign.append(address))
        return ours, foreign

    def _flight_share(self, pool: Any) -> int:
        ours, foreign = self._members(pool)
        targets = sum(1 for a in ours if a in self.targets)
        share = true_share(targets, len(ours) + len(foreign))
        if share is None:
            raise RoutingError(f"{self.resource}: pool {self.flight_pool!r} the rule sends users to has no member")
        return share

    def _share(self, gateway: Any) -> int:
        r, pool = self.routing, self._pool_name(gateway)
        if self.flight_pool and pool.lower() == self.flight_pool.lower():
            return self._flight_share(self._pool(gateway, pool))
        if pool.lower() not in (r.source_pool.lower(), r.target_pool.lower()):
            raise RoutingError(
                f"{self.resource}: rule {r.rule!r} sends users to pool {pool!r}, "
                f"neither the source {r.source_pool!r} nor the target {r.target_pool!r}"
            )
        return 100 if pool.lower() == r.target_pool.lower() else 0

    def read(self) -> int:
        return self._share(self._gateway())

    def diff(self, percent: int) -> list[Change]:
        return self._diff(self._gateway(), percent)

    def _live(self, gateway: Any) -> dict[str, str]:
        live = {self.property: f"backendAddressPools/{self._pool_name(gateway)}"}
        if self.flight_pool:
            ours, foreign = self._members(self._pool(gateway, self.flight_pool))
            live[f"backendAddressPools/{self.flight_pool}: backendAddresses"] = lb_value(self.routing, ours, foreign)
        return live

    def _diff(self, gateway: Any, percent: int) -> list[Change]:
        wanted, live = settings(self.routing, percent), self._live(gateway)
        if self.flight_pool:  # the members the plan does not name stay, and show in the value
            foreign = self._members(self._pool(gateway, self.flight_pool))[1]
            key = f"backendAddressPools/{self.flight_pool}: backendAddresses"
            wanted[key] = lb_value(self.routing, lb_members(self.routing, percent), foreign)
        return [
            Change(self.resource, prop, live[prop], value)
            for prop, value in wanted.items()
            if live[prop].lower() != value.lower()
        ]

    def problems(self, percents: list[int]) -> list[str]:
        if not self.flight_pool:
            return [
                f"{self.resource}: an application gateway rule realises 0% or 100%, not {p}% (add a "
                "flight_pool for flights)"
                for p in percents
                if p not in (0, 100)
            ]
        gateway = self._gateway()
        return [p for p in (self._refusal(gateway, percent) for percent in percents) if p]

    def _refusal(self, gateway: Any, percent: int) -> str | None:
        if not self.flight_pool or percent in (0, 100):
            return None
        foreign = self._members(self._pool(gateway, self.flight_pool))[1]
        wanted = lb_members(self.routing, percent)
        achieved = true_share(sum(1 for a in wanted if a in self.targets), len(wanted) + len(foreign))
        if foreign and achieved != realisable_share(self.routing, percent):
            return foreign_refusal(f"pool {self.flight_pool} of {self.resource}", "members", foreign, percent, achieved)
        return None

    def notes(self, percents: list[int]) -> list[str]:
        """A mixed flight pool (shares between 0 and 100): both sides are reached through the rule's one backend
        setting and its one probe, and cookie affinity keeps clients where they are. Read live."""
        if not self.flight_pool or not any(0 < p < 100 for p in percents):
            return []
        gateway = self._gateway()
        ref = self._rule(gateway).backend_http_settings
        name = ref.id.rstrip("/").rsplit("/", 1)[-1] if ref and ref.id else None
        setting = next((x for x in gateway.backend_http_settings_collection or [] if x.name == name), None)
        if setting is None:
            return []
        where = f"pool {self.flight_pool} of {self.resource}"
        reached = f"backend settings {name} ({_arm.text(setting.protocol)}, port {setting.port}){self._host(setting)}"
        out = [
            f"{where}: both sides are reached with {reached}; the migrated system must answer there as the source does"
        ]
        probe_id = setting.probe.id if setting.probe and setting.probe.id else None
        probe = next((p for p in gateway.probes or [] if probe_id and p.id and p.id.lower() == probe_id.lower()), None)
        probe_text = (
            f"probe {probe.name} (path {probe.path}, host {probe.host or 'from the backend settings'})"
            if probe
            else "the default probe (path /)"
        )
        out.append(
            f"{where}: one health probe for both sides, {probe_text}: a member that fails it gets no requests, so "
            "a share is a share of the healthy members (the gateway's backend health shows them)"
        )
        if _arm.text(setting.cookie_based_affinity).lower() == "enabled":
            out.append(
                f"{where}: cookie-based affinity is enabled on backend settings {name}: a client keeps the member "
                "of its first request, so a flight's share applies to new clients only; clients move when their "
                "member leaves the pool or fails its probe"
            )
        return out

    def _host(self, setting: Any) -> str:
        if setting.host_name:
            return f", Host {setting.host_name} for both"
        if setting.pick_host_name_from_backend_address:
            ips = [a for a in pool_addresses(self.routing)[0] + pool_addresses(self.routing)[1] if _is_ip(a)]
            given = f": members given by IP ({', '.join(ips)}) get their address as Host" if ips else ""
            return f", host name taken from each member's address{given}"
        return ", the client's Host header passed on"

    def apply(self, percent: int) -> list[Change]:
        if percent not in (0, 100) and not self.flight_pool:
            raise RoutingError(f"{self.resource}: an application gateway rule realises 0% or 100%, not {percent}%")
        return _arm.guarded(lambda: self._attempt(percent))

    def _attempt(self, percent: int) -> list[Change]:
        gateway = self._gateway()
        refusal = self._refusal(gateway, percent)
        if refusal:
            raise RoutingError(refusal)
        changes = self._diff(gateway, percent)
        if not changes:
            return []
        from azure.mgmt.network.models import ApplicationGatewayBackendAddress, SubResource

        r = self.routing
        pool_name = settings(r, percent)[self.property].split("/", 1)[1]
        self._rule(gateway).backend_address_pool = SubResource(id=self._pool(gateway, pool_name).id)
        if self.flight_pool:
            flight = self._pool(gateway, self.flight_pool)
            wanted = {a.lower() for a in lb_members(r, percent)}
            kept = [
                m
                for m in flight.backend_addresses or []
                if self._address(m).lower() not in self.owned or self._address(m).lower() in wanted
            ]
            present = {self._address(m).lower() for m in kept}
            for address in lb_members(r, percent):
                if address.lower() not in present:
                    kept.append(ApplicationGatewayBackendAddress(**_backend(address)))
            flight.backend_addresses = kept
        with _arm.arm_errors(self.resource, NEEDS):
            _arm.wait(
                self.client.application_gateways.begin_create_or_update(
                    r.resource_group, r.application_gateway, gateway, **_arm.if_match(gateway.etag)
                )
            )
        return changes


def _is_ip(address: str) -> bool:
    return "ip_address" in _backend(address)


def _backend(address: str) -> dict[str, str]:
    import ipaddress

    try:
        ipaddress.ip_address(address)
        return {"ip_address": address}
    except ValueError:
        return {"fqdn": address}


def build(routing: ApplicationGatewayRouting, settings: ArmSettings) -> ApplicationGatewayRouter:
    from azure.mgmt.network import NetworkManagementClient

    return ApplicationGatewayRouter(routing, _arm.client(NetworkManagementClient, settings, routing.subscription))
