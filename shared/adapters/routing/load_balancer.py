"""load-balancer: the plan's source and target addresses in one IP-based backend pool.

Every member of a pool receives flows, so the share is the target addresses' part of *all* the pool's members,
members the plan does not name included (the true share). A move whose true share would differ from the
plan's (a foreign member in the pool) is refused before anything is written, naming those members. Only the
plan's addresses are added or removed, through the backend pool sub-resource, guarded by the pool's ETag
(If-Match): if someone changed the pool between promote's read and write, the pool is read and merged again.
"""

from __future__ import annotations

from typing import Any

from shared.adapters.routing import _arm
from shared.adapters.routing._arm import ArmSettings
from shared.domain.errors import RoutingError
from shared.domain.plan import LoadBalancerRouting
from shared.domain.plan.shares import realisable_share
from shared.domain.routing import Change, foreign_refusal, lb_members, lb_value, resource, settings, true_share

NEEDS = (
    "Microsoft.Network/loadBalancers/backendAddressPools/read and /write on the load balancer and "
    "Microsoft.Network/virtualNetworks/joinLoadBalancer/action on the pool's virtual network"
)


class LoadBalancerRouter:
    def __init__(self, routing: LoadBalancerRouting, client: Any):
        self.routing, self.client = routing, client
        self.resource = resource(routing)
        self.what = f"backend pool {routing.backend_pool} of {self.resource}"
        self.property = next(iter(settings(routing, 0)))
        self.owned = set(routing.source_addresses) | set(routing.target_addresses)

    def describe(self) -> str:
        return self.what

    def _pool(self) -> Any:
        r = self.routing
        with _arm.arm_errors(self.what, NEEDS):
            return self.client.load_balancer_backend_address_pools.get(
                r.resource_group, r.load_balancer, r.backend_pool
            )

    def _members(self, pool: Any) -> set[str]:
        return {a.ip_address for a in pool.load_balancer_backend_addresses or []} & self.owned

    def _foreign(self, pool: Any) -> list[str]:
        """Members the plan does not name: other addresses, and network interfaces joined to the pool."""
        others = [
            a.ip_address or a.name or "?"
            for a in pool.load_balancer_backend_addresses or []
            if a.ip_address not in self.owned
        ]
        nics = [c.id.split("/networkInterfaces/")[-1] for c in pool.backend_ip_configurations or [] if c.id]
        return others + [f"network interface {n}" for n in nics]

    def read(self) -> int:
        pool = self._pool()
        members, foreign = self._members(pool), self._foreign(pool)
        share = true_share(len(members & set(self.routing.target_addresses)), len(members) + len(foreign))
        if not members or share is None:
            raise RoutingError(f"{self.what}: holds none of the plan's source or target addresses")
        return share

    def diff(self, percent: int) -> list[Change]:
        return self._diff(self._pool(), percent)

    def problems(self, percents: list[int]) -> list[str]:
        pool = self._pool()
        return [p for p in (self._refusal(pool, percent) for percent in percents) if p]

    def _refusal(self, pool: Any, percent: int) -> str | None:
        foreign, wanted = self._foreign(pool), lb_members(self.routing, percent)
        targets = sum(1 for a in wanted if a in self.routing.target_addresses)
        achieved = true_share(targets, len(wanted) + len(foreign))
        if foreign and achieved != realisable_share(self.routing, percent):
            return foreign_refusal(self.what, "members", foreign, percent, achieved)
        return None

    def _diff(self, pool: Any, percent: int) -> list[Change]:
        foreign = self._foreign(pool)
        before = lb_value(self.routing, self._members(pool), foreign)
        after = lb_value(self.routing, lb_members(self.routing, percent), foreign)
        return [] if before == after else [Change(self.resource, self.property, before, after)]

    def apply(self, percent: int) -> list[Change]:
        def attempt() -> list[Change]:
            pool = self._pool()
            refusal = self._refusal(pool, percent)
            if refusal:
                raise RoutingError(refusal)
            changes = self._diff(pool, percent)
            if changes:
                self._write(pool, set(lb_members(self.routing, percent)))
            return changes

        return _arm.guarded(attempt)

    def _write(self, pool: Any, wanted: set[str]) -> None:
        from azure.mgmt.network.models import LoadBalancerBackendAddress, SubResource

        r, addresses = self.routing, list(pool.load_balancer_backend_addresses or [])
        kept = [a for a in addresses if a.ip_address not in self.owned or a.ip_address in wanted]
        present = {a.ip_address for a in kept}
        added = [ip for ip in r.source_addresses + r.target_addresses if ip in wanted and ip not in present]
        if added:
            network = pool.virtual_network or next((a.virtual_network for a in addresses if a.virtual_network), None)
            if network is None:
                raise RoutingError(
                    f"{self.what}: names no virtual network (neither the pool nor any of its "
                    f"addresses), so {', '.join(added)} cannot be added; set the pool's virtual network"
                )
            kept += [
                LoadBalancerBackendAddress(
                    name=_address_name(ip), ip_address=ip, virtual_network=SubResource(id=network.id)
                )
                for ip in added
            ]
        pool.load_balancer_backend_addresses = kept
        with _arm.arm_errors(self.what, NEEDS):
            _arm.wait(
                self.client.load_balancer_backend_address_pools.begin_create_or_update(
                    r.resource_group, r.load_balancer, r.backend_pool, pool, **_arm.if_match(pool.etag)
                )
            )


def _address_name(ip: str) -> str:
    return "promote-" + ip.replace(":", "-").strip("-")


def build(routing: LoadBalancerRouting, settings: ArmSettings) -> LoadBalancerRouter:
    from azure.mgmt.network import NetworkManagementClient

    return LoadBalancerRouter(routing, _arm.client(NetworkManagementClient, settings, routing.subscription))
