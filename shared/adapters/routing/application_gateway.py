"""application-gateway: which backend pool one request routing rule sends users to (0 or 100).

Reads the gateway, points the one rule's backendAddressPool at the source or target pool, and PUTs the
gateway back as it was read (the SDK's models keep every property, even ones it does not know), so other
rules, listeners, pools and settings stay as they are. The PUT carries If-Match with the ETag read: a
gateway changed by someone else in between is refused (412), not overwritten; promote reads it again and
re-applies its one change on top (a bounded number of times).
"""
from __future__ import annotations

from typing import Any

from shared.domain.errors import RoutingError
from shared.domain.routing import Change, resource, settings
from shared.adapters.routing import _arm

NEEDS = ("Microsoft.Network/applicationGateways/read and /write on the gateway, plus the join actions its "
         "PUT re-checks (Microsoft.Network/virtualNetworks/subnets/join/action on its subnet, "
         "Microsoft.Network/publicIPAddresses/join/action on its public IP)")


class ApplicationGatewayRouter:
    def __init__(self, routing: Any, client: Any):
        self.routing, self.client = routing, client
        self.resource = resource(routing)
        self.property = next(iter(settings(routing, 0)))

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
            raise RoutingError(f"{self.resource}: rule {self.routing.rule!r} names no backend pool "
                               "(path-based or redirect rules are not switched by promote)")
        return rule

    def _pool_name(self, gateway: Any) -> str:
        return self._rule(gateway).backend_address_pool.id.rstrip("/").rsplit("/", 1)[-1]

    def _share(self, pool: str) -> int:
        r = self.routing
        if pool.lower() not in (r.source_pool.lower(), r.target_pool.lower()):
            raise RoutingError(f"{self.resource}: rule {r.rule!r} sends users to pool {pool!r}, "
                               f"neither the source {r.source_pool!r} nor the target {r.target_pool!r}")
        return 100 if pool.lower() == r.target_pool.lower() else 0

    def read(self) -> int:
        return self._share(self._pool_name(self._gateway()))

    def diff(self, percent: int) -> list[Change]:
        return self._diff(self._pool_name(self._gateway()), percent)

    def _diff(self, pool: str, percent: int) -> list[Change]:
        wanted = settings(self.routing, percent)[self.property]
        before = f"backendAddressPools/{pool}"
        return [] if before.lower() == wanted.lower() else [Change(self.resource, self.property, before, wanted)]

    def problems(self, percents: list[int]) -> list[str]:
        return [f"{self.resource}: an application gateway rule realises 0% or 100%, not {p}%"
                for p in percents if p not in (0, 100)]

    def apply(self, percent: int) -> list[Change]:
        if percent not in (0, 100):
            raise RoutingError(f"{self.resource}: an application gateway rule realises 0% or 100%, not {percent}%")
        return _arm.guarded(lambda: self._attempt(percent))

    def _attempt(self, percent: int) -> list[Change]:
        gateway = self._gateway()
        changes = self._diff(self._pool_name(gateway), percent)
        if changes:
            pool_name = self.routing.target_pool if percent == 100 else self.routing.source_pool
            pool = next((p for p in gateway.backend_address_pools or [] if p.name.lower() == pool_name.lower()), None)
            if pool is None:
                raise RoutingError(f"{self.resource}: has no backend pool {pool_name!r}")
            from azure.mgmt.network.models import SubResource

            self._rule(gateway).backend_address_pool = SubResource(id=pool.id)
            with _arm.arm_errors(self.resource, NEEDS):
                _arm.wait(self.client.application_gateways.begin_create_or_update(
                    self.routing.resource_group, self.routing.application_gateway, gateway,
                    **_arm.if_match(gateway.etag)))
        return changes


def build(routing: Any, settings: Any) -> ApplicationGatewayRouter:
    from azure.mgmt.network import NetworkManagementClient

    return ApplicationGatewayRouter(routing, _arm.client(NetworkManagementClient, settings, routing.subscription))
