"""load-balancer: the plan's source and target addresses in one IP-based backend pool.

The share is the target addresses' part of the plan's addresses in the pool, the nearest ratio to the
wanted percent that the address counts allow (shares.pool_composition). Only the plan's addresses are
added or removed, through the backend pool sub-resource; other addresses of the pool and everything
else of the load balancer stay as they are.
"""
from __future__ import annotations

from typing import Any

from shared.domain.errors import RoutingError
from shared.domain.routing import Change, lb_members, lb_value, resource, settings
from shared.adapters.routing import _arm

NEEDS = ("Microsoft.Network/loadBalancers/backendAddressPools/read and /write on the load balancer and "
         "Microsoft.Network/virtualNetworks/joinLoadBalancer/action on the pool's virtual network")


class LoadBalancerRouter:
    def __init__(self, routing: Any, client: Any):
        self.routing, self.client = routing, client
        self.resource = resource(routing)
        self.what = f"backend pool {routing.backend_pool} of {self.resource}"
        self.property = next(iter(settings(routing, 0)))
        self.last_changes: list[Change] = []

    def describe(self) -> str:
        return self.what

    def _pool(self) -> Any:
        r = self.routing
        with _arm.arm_errors(self.what, NEEDS):
            return self.client.load_balancer_backend_address_pools.get(r.resource_group, r.load_balancer,
                                                                       r.backend_pool)

    def _members(self, pool: Any) -> set[str]:
        owned = set(self.routing.source_addresses) | set(self.routing.target_addresses)
        return {a.ip_address for a in pool.load_balancer_backend_addresses or []} & owned

    def read(self) -> int:
        members = self._members(self._pool())
        if not members:
            raise RoutingError(f"{self.what}: holds none of the plan's source or target addresses")
        targets = len(members & set(self.routing.target_addresses))
        return round(100 * targets / len(members))

    def diff(self, percent: int) -> list[Change]:
        return self._diff(self._pool(), percent)

    def _diff(self, pool: Any, percent: int) -> list[Change]:
        before = lb_value(self.routing, self._members(pool))
        after = lb_value(self.routing, lb_members(self.routing, percent))
        return [] if before == after else [Change(self.resource, self.property, before, after)]

    def apply(self, percent: int) -> int:
        pool = self._pool()
        self.last_changes = self._diff(pool, percent)
        wanted = lb_members(self.routing, percent)
        if self.last_changes:
            self._write(pool, set(wanted))
        targets = sum(1 for a in wanted if a in self.routing.target_addresses)
        return round(100 * targets / len(wanted))

    def _write(self, pool: Any, wanted: set[str]) -> None:
        from azure.mgmt.network.models import LoadBalancerBackendAddress, SubResource

        r, addresses = self.routing, list(pool.load_balancer_backend_addresses or [])
        owned = set(r.source_addresses) | set(r.target_addresses)
        kept = [a for a in addresses if a.ip_address not in owned or a.ip_address in wanted]
        present = {a.ip_address for a in kept}
        added = [ip for ip in r.source_addresses + r.target_addresses if ip in wanted and ip not in present]
        if added:
            network = pool.virtual_network or next((a.virtual_network for a in addresses if a.virtual_network), None)
            if network is None:
                raise RoutingError(f"{self.what}: names no virtual network (neither the pool nor any of its "
                                   f"addresses), so {', '.join(added)} cannot be added; set the pool's virtual network")
            kept += [LoadBalancerBackendAddress(name=_address_name(ip), ip_address=ip,
                                                virtual_network=SubResource(id=network.id)) for ip in added]
        pool.load_balancer_backend_addresses = kept
        with _arm.arm_errors(self.what, NEEDS):
            _arm.wait(self.client.load_balancer_backend_address_pools.begin_create_or_update(
                r.resource_group, r.load_balancer, r.backend_pool, pool))


def _address_name(ip: str) -> str:
    return "promote-" + ip.replace(":", "-").strip("-")


def build(routing: Any, settings: Any) -> LoadBalancerRouter:
    from azure.mgmt.network import NetworkManagementClient

    return LoadBalancerRouter(routing, _arm.client(NetworkManagementClient, settings, routing.subscription))
